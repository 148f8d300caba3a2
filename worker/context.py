"""What every job finds in arq's ``ctx``: the process-wide resources, typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.crypto import SecretsCipher
from shared.fair_queue import FairQueue
from shared.github.client import GitHubClient
from shared.provisioning.steps import Provisioner
from shared.settings import WorkerSettings
from worker.metrics import WorkerMetrics

__all__ = ["WorkerState", "state_of"]


@dataclass
class WorkerState:
    """Built once per worker process (``on_startup``), shared by its jobs."""

    config: WorkerSettings
    sessionmaker: async_sessionmaker[AsyncSession]
    github: GitHubClient
    provisioner: Provisioner
    cipher: SecretsCipher
    fair: FairQueue
    """Frees a job's dispatch slot when its run ends and dispatches the next."""
    metrics: WorkerMetrics = field(default_factory=WorkerMetrics)
    secrets_retention_days: float = 7.0
    """``SECRETS_RETENTION_DAYS``: the sweeper purges values of long-failed projects."""


def state_of(ctx: dict[str, Any]) -> WorkerState:
    """The worker's state from an arq job context."""
    state = ctx["state"]
    assert isinstance(state, WorkerState)
    return state


def queue_of(ctx: dict[str, Any]) -> ArqRedis:
    """arq's Redis connection from a job context."""
    redis = ctx["redis"]
    assert isinstance(redis, ArqRedis)
    return redis

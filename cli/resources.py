"""The composition root: every long-lived object is built here, once, from :class:`Settings`.

:func:`build_resources` opens the engine, the Redis pool, the GitHub client,
the repository-token minter and (for the API) the change listener, and closes
them in reverse order. :func:`api_resources` and :func:`worker_state` hand the
API and the worker what they need from it. Tests build resources the same way
with settings of their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import structlog
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.changes import ProjectChanges
from api.deps import Resources as ApiResources
from api.ops.config import OpsConfig
from shared.budget.budget import GitHubBudget
from shared.crypto import SecretsCipher, cipher_from
from shared.db.engine import create_engine, create_sessionmaker
from shared.fair_queue import FairQueue, fair_queue
from shared.github.client import GitHubClient
from shared.github.transport import RequestGate
from shared.github_budget import BudgetGate, budget_config
from shared.jobs import open_queue
from shared.projects.repo_tokens import RepoTokenMinter
from shared.provisioning.steps import Provisioner
from shared.rate_limits import RateLimiter
from shared.reconcile_share import ShareGate
from shared.settings import Settings
from worker.context import WorkerState
from worker.metrics import WorkerMetrics

__all__ = ["Resources", "api_resources", "build_resources", "worker_state"]

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Resources:
    """What one process holds for its whole life."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    fair: FairQueue
    cipher: SecretsCipher
    github: GitHubClient | None
    """``None`` when no GitHub App is configured (the API then mints no tokens)."""
    budget: GitHubBudget | None
    """The fleet's GitHub budget, which ``github`` draws from."""
    changes: ProjectChanges | None
    """Wakes long polls; only the API listens."""


@asynccontextmanager
async def build_resources(
    settings: Settings,
    *,
    role: str,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    listen: bool = False,
    metrics: WorkerMetrics | None = None,
) -> AsyncIterator[Resources]:
    """Open everything ``role`` (``api`` or ``worker``) needs; close it all when the block ends.

    ``pool_size``/``max_overflow`` override the database section's; ``listen`` starts the change
    listener; ``metrics`` counts the GitHub requests and budget waits.
    """
    cipher = cipher_from(settings.secrets)
    async with AsyncExitStack() as stack:
        database = settings.database
        engine = create_engine(
            database.url,
            application_name=f"provisioner-{role}",
            pool_size=pool_size or database.pool_size,
            max_overflow=database.max_overflow if max_overflow is None else max_overflow,
        )
        stack.push_async_callback(engine.dispose)
        sessionmaker = create_sessionmaker(engine)
        queue = await open_queue(settings.redis)
        stack.push_async_callback(queue.aclose)
        github, budget = None, None
        if settings.github.configured:
            budget = GitHubBudget(queue, budget_config(settings.github))
            gate: RequestGate = BudgetGate(
                budget, on_wait=metrics.budget_wait_seconds.observe if metrics else None
            )
            if role == "worker":  # drift correction runs there, within its share
                gate = ShareGate(gate, queue, budget.config, settings.worker.reconcile_budget_share)
            github = GitHubClient(
                settings.github.app,
                gate=gate,
                max_wait_s=settings.github.budget_wait_s,
                observe=metrics.github_request if metrics else None,
            )
            stack.push_async_callback(github.aclose)
        else:
            _log.warning("resources.github_disabled", reason="GITHUB_APP_ID is not set")
        changes = None
        if listen:
            changes = ProjectChanges(database.url, sessionmaker=sessionmaker)
            await changes.start()
            stack.push_async_callback(changes.stop)
        yield Resources(
            settings=settings,
            engine=engine,
            sessionmaker=sessionmaker,
            queue=queue,
            fair=fair_queue(queue, settings.redis),
            cipher=cipher,
            github=github,
            budget=budget,
            changes=changes,
        )


@asynccontextmanager
async def api_resources(settings: Settings) -> AsyncIterator[ApiResources]:
    """What one API process serves with (its lifespan enters this)."""
    async with build_resources(settings, role="api", listen=True) as resources:
        minter = (
            RepoTokenMinter(resources.github, settings.agents.permissions)
            if resources.github is not None
            else None
        )
        yield ApiResources(
            engine=resources.engine,
            sessionmaker=resources.sessionmaker,
            queue=resources.queue,
            fair=resources.fair,
            cipher=resources.cipher,
            changes=resources.changes,
            tokens=minter,
            budget=resources.budget,
            limits=settings.api.limits,
            limiter=RateLimiter(resources.queue),
            ops=OpsConfig(
                queue_name=settings.redis.queue_name, session_ttl_s=settings.ops.session_ttl_s
            )
            if settings.ops.console
            else None,
            webhook_secret=settings.github.webhook_secret,
        )


@asynccontextmanager
async def worker_state(settings: Settings) -> AsyncIterator[WorkerState]:
    """What one worker process's jobs share (its startup enters this)."""
    worker = settings.worker
    metrics = WorkerMetrics()
    metrics.serve(worker.metrics_port)
    async with build_resources(
        settings,
        role="worker",
        pool_size=worker.max_jobs,
        max_overflow=2,
        metrics=metrics,
    ) as resources:
        assert resources.github is not None, "load_settings(require_github=True) checked this"
        yield WorkerState(
            config=worker,
            sessionmaker=resources.sessionmaker,
            github=resources.github,
            provisioner=Provisioner(resources.github),
            cipher=resources.cipher,
            fair=resources.fair,
            metrics=metrics,
            secrets_retention_days=settings.secrets.retention_days,
        )

"""Small builders and probes for the API tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.projects import lifecycle, repository
from shared.projects.models import Project, ProjectSecret
from tests.db.helpers import FakeRepo

PROJECT_KEYS = {
    "id",
    "name",
    "description",
    "status",
    "repo_name",
    "repo_info",
    "attempts",
    "generation",
    "last_error",
    "waiting",
    "sync",
    "last_reconciled_at",
    "secrets",
    "repository",
    "settings",
    "config",
    "created_at",
    "updated_at",
    "provisioned_at",
}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def body(**overrides: Any) -> dict[str, Any]:
    """A valid create body with a unique name."""
    payload: dict[str, Any] = {"name": f"Demo bot {uuid.uuid4().hex[:8]}"}
    payload.update(overrides)
    return payload


async def row_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """How many rows ``projects`` and ``project_secrets`` hold."""
    async with sessionmaker() as session:
        projects = await session.scalar(select(func.count()).select_from(Project))
        secrets = await session.scalar(select(func.count()).select_from(ProjectSecret))
    return int(projects or 0), int(secrets or 0)


async def queued_job_ids(queue: ArqRedis) -> list[str]:
    """Ids of the jobs waiting in the queue's sorted set."""
    return [raw.decode() for raw in await queue.zrange(queue.default_queue_name, 0, -1)]


async def stored_job(queue: ArqRedis, job_id: str) -> dict[str, Any] | None:
    """arq's stored envelope of the job, parsed as JSON (it must be JSON, not pickle)."""
    raw = await queue.get(f"arq:job:{job_id}")
    if raw is None:
        return None
    loaded = json.loads(raw)
    assert isinstance(loaded, dict)
    return loaded


async def _start_attempt(session: AsyncSession, project_id: uuid.UUID) -> Project:
    project = await repository.get_project(session, project_id, for_update=True)
    assert project is not None
    started = await lifecycle.start_attempt(session, project_id, project.generation, job_try=1)
    assert started is not None
    return started


async def make_failed(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID
) -> None:
    """Move a pending project to ``repo_failed`` as a worker would."""
    async with sessionmaker() as session, session.begin():
        started = await _start_attempt(session, project_id)
        await lifecycle.mark_failed(
            session, started, code="github_forbidden", message="Resource not accessible"
        )


async def make_ready(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID, repo: FakeRepo
) -> None:
    """Move a pending project to ``ready`` with ``repo`` as a worker would."""
    async with sessionmaker() as session, session.begin():
        started = await _start_attempt(session, project_id)
        await repository.record_secret_outcomes(
            session,
            project_id,
            {
                name: ("set", None, None)
                for name, _ in await repository.secret_states(session, project_id)
            },
        )
        await lifecycle.mark_ready(session, started, repo=repo, installation_id=7)


async def make_deferred(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID, reason: str
) -> None:
    """Start an attempt and defer it, as a worker waiting for the GitHub budget would."""
    async with sessionmaker() as session, session.begin():
        started = await _start_attempt(session, project_id)
        until = datetime.now(UTC) + timedelta(seconds=30)
        await lifecycle.record_deferral(
            session, started, code="github_budget_wait", message=reason, until=until
        )

"""The sweeper: PostgreSQL is the outbox, this is its relay.

Every unfinished project whose job is gone from Redis (flushed, restarted,
enqueue failed after the commit, worker killed and its job lost) is enqueued
again. A job that is queued, deferred or running is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from shared.db.engine import session_scope
from shared.errors import SweeperGaveUp
from shared.jobs import provision_job_id
from shared.projects import lifecycle, repository
from shared.projects.models import UNFINISHED_STATUSES
from shared.projects.secret_keys import purge_expired_secrets
from worker.context import state_of

__all__ = ["SWEEP_BATCH", "sweep_unfinished"]

SWEEP_BATCH = 500
_log = structlog.get_logger(__name__)


async def sweep_unfinished(ctx: dict[str, Any]) -> int:
    """Re-enqueue unfinished projects whose job is gone; returns how many."""
    state = state_of(ctx)
    await state.fair.dispatch()  # slots freed by expired leases go to the next in line
    async with session_scope(state.sessionmaker) as session:
        await purge_expired_secrets(session, retention_days=state.secrets_retention_days)
    max_requeues = state.config.sweep_max_requeues
    older_than = datetime.now(UTC) - timedelta(seconds=state.config.sweep_grace_s)
    async with session_scope(state.sessionmaker) as session:
        stale = await repository.stale_unfinished(session, older_than=older_than, limit=SWEEP_BATCH)
    requeued = 0
    for project_id, generation in stale:
        job_id = provision_job_id(project_id, generation)
        if await state.fair.job_alive(job_id):
            continue
        async with session_scope(state.sessionmaker) as session:
            project = await repository.get_project(session, project_id, for_update=True)
            if (
                project is None
                or project.generation != generation
                or project.status not in UNFINISHED_STATUSES  # finished since the scan
            ):
                continue
            if await repository.requeues_without_progress(session, project) >= max_requeues:
                await lifecycle.mark_failed(
                    session,
                    project,
                    code=SweeperGaveUp.code,
                    message=SweeperGaveUp.describe(max_requeues),
                )
                _log.error("sweeper.gave_up", project_id=str(project_id), job_id=job_id)
                continue
            if await state.fair.submit(project_id, generation, project.owner):
                await lifecycle.note_requeued(session, project, by="sweeper")
                requeued += 1
                _log.info("sweeper.requeued", project_id=str(project_id), job_id=job_id)
    if requeued:
        _log.info("sweeper.done", requeued=requeued, stale=len(stale))
    return requeued

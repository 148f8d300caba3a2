"""The sweeper: PostgreSQL is the outbox, this is its relay.

Every unfinished project whose job is gone from Redis (flushed, restarted,
enqueue failed after the commit, worker killed and its job lost) is enqueued
again. A job that is queued, deferred or running is left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from shared.db.engine import session_scope
from shared.jobs import discard_result, enqueue_provision, provision_job_id
from shared.projects import lifecycle, repository
from worker.context import queue_of, state_of

__all__ = ["SWEEP_BATCH", "sweep_unfinished"]

SWEEP_BATCH = 500
_log = structlog.get_logger(__name__)


_ALIVE = frozenset({JobStatus.deferred, JobStatus.queued, JobStatus.in_progress})


async def _job_alive(queue: ArqRedis, job_id: str) -> bool:
    return await Job(job_id, queue).status() in _ALIVE


async def sweep_unfinished(ctx: dict[str, Any]) -> int:
    """Re-enqueue unfinished projects whose job is gone; returns how many."""
    state = state_of(ctx)
    queue = queue_of(ctx)
    older_than = datetime.now(UTC) - timedelta(seconds=state.config.sweep_grace_s)
    async with session_scope(state.sessionmaker) as session:
        stale = await repository.stale_unfinished(session, older_than=older_than, limit=SWEEP_BATCH)
    requeued = 0
    for project_id, generation in stale:
        job_id = provision_job_id(project_id, generation)
        if await _job_alive(queue, job_id):
            continue
        async with session_scope(state.sessionmaker) as session:
            project = await repository.get_project(session, project_id, for_update=True)
            if project is None or project.generation != generation:
                continue
            # A finished job whose project is still unfinished leaves a result behind
            # that would make arq refuse the same job id.
            await discard_result(queue, job_id)
            if await enqueue_provision(queue, project_id, generation):
                await lifecycle.note_requeued(session, project, by="sweeper")
                requeued += 1
                _log.info("sweeper.requeued", project_id=str(project_id), job_id=job_id)
    if requeued:
        _log.info("sweeper.done", requeued=requeued, stale=len(stale))
    return requeued

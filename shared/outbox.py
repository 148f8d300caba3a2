"""Jobs a request wants enqueued, held until its transaction has committed.

A job enqueued before the commit could run before the row is visible, and
one enqueued for a rolled-back request would work on nothing; so requests
only :meth:`PendingJobs.add`, and the session dependency flushes after the
commit (or drops the jobs on rollback). A failed enqueue is logged, not
raised: the row is stored as ``pending_repo`` and the sweeper re-enqueues it.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog

from shared.fair_queue import FairQueue
from shared.jobs import enqueue_maintenance, provision_job_id

__all__ = ["ENQUEUE_TIMEOUT_S", "PendingJobs"]

ENQUEUE_TIMEOUT_S = 2.0

_log = structlog.get_logger(__name__)


class PendingJobs:
    """Provisioning jobs to enqueue once the request's transaction has committed."""

    def __init__(self) -> None:
        self._jobs: list[tuple[uuid.UUID, int, str]] = []
        self._maintenance: list[uuid.UUID] = []

    def add(self, project_id: uuid.UUID, generation: int, owner: str) -> None:
        """Submit the ``owner``'s project's ``generation`` job after the commit."""
        if (project_id, generation, owner) not in self._jobs:
            self._jobs.append((project_id, generation, owner))

    def add_maintenance(self, project_id: uuid.UUID) -> None:
        """Enqueue a maintenance job for the project after the commit."""
        if project_id not in self._maintenance:
            self._maintenance.append(project_id)

    def drop(self) -> None:
        """Forget every job (the transaction rolled back)."""
        self._jobs.clear()
        self._maintenance.clear()

    async def flush(self, queue: FairQueue) -> None:
        """Submit every held job; failures are logged as warnings and left to the sweeper."""
        jobs, self._jobs = self._jobs, []
        maintenance, self._maintenance = self._maintenance, []
        for project_id in maintenance:
            try:
                async with asyncio.timeout(ENQUEUE_TIMEOUT_S):
                    job_id = await enqueue_maintenance(queue.queue, project_id)
            except Exception as exc:  # the sweeper finds the change pending and enqueues it
                _log.warning(
                    "job.enqueue_failed", project_id=str(project_id), error=f"{type(exc).__name__}"
                )
                continue
            _log.info("job.enqueued", project_id=str(project_id), job_id=job_id)
        for project_id, generation, owner in jobs:
            job_id = provision_job_id(project_id, generation)
            try:
                async with asyncio.timeout(ENQUEUE_TIMEOUT_S):
                    created = await queue.submit(project_id, generation, owner)
            except Exception as exc:
                _log.warning(
                    "job.enqueue_failed",
                    project_id=str(project_id),
                    job_id=job_id,
                    error_type=type(exc).__name__,
                    error=str(exc),
                )
                continue
            _log.info(
                "job.enqueued" if created else "job.already_queued",
                project_id=str(project_id),
                job_id=job_id,
            )

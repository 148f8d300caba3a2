"""What the ops console does beyond reading: retry a whole group of failed projects.

Each project goes through :func:`shared.projects.service.retry_project`, the API's
retry, in a savepoint of its own: one that cannot be retried (its repository name
was taken meanwhile) is reported and the others go ahead. Their jobs are
enqueued after the caller's commit, like any retry's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Action, Principal, authorize
from shared.errors import RequestRejected
from shared.ops import repository
from shared.outbox import PendingJobs
from shared.projects import service

__all__ = ["RETRY_ALL_LIMIT", "GroupRetry", "retry_failed_group"]

RETRY_ALL_LIMIT = 500
"""Projects one "retry all" moves at most (press again for the rest)."""

_log = structlog.get_logger(__name__)


@dataclass
class GroupRetry:
    """What one "retry all" did."""

    code: str
    retried: list[uuid.UUID] = field(default_factory=list)
    refused: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    """``(project id, why)`` of those the retry refused."""
    more: bool = False
    """Whether projects of the group are left beyond :data:`RETRY_ALL_LIMIT`."""


async def retry_failed_group(
    session: AsyncSession,
    jobs: PendingJobs,
    principal: Principal,
    code: str,
    *,
    limit: int = RETRY_ALL_LIMIT,
) -> GroupRetry:
    """Retry every failed project whose ``last_error.code`` is ``code`` (up to ``limit``)."""
    authorize(principal, Action.RETRY)
    ids = await repository.failed_ids(session, code, limit=limit + 1)
    outcome = GroupRetry(code=code, more=len(ids) > limit)
    for project_id in ids[:limit]:
        try:
            async with session.begin_nested():
                await service.retry_project(session, jobs, principal, project_id)
        except RequestRejected as exc:
            outcome.refused.append((project_id, exc.message))
            continue
        outcome.retried.append(project_id)
    _log.info(
        "ops.group_retried",
        code=code,
        retried=len(outcome.retried),
        refused=len(outcome.refused),
        actor=principal.subject,
    )
    return outcome

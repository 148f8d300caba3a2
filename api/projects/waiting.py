"""Long polls: ``GET /api/projects/{id}?wait=SECONDS`` answers when the project changes.

The request's session is committed (its connection goes back to the pool)
before waiting, so hundreds of waiters hold no database connection. They are
woken by :class:`api.changes.ProjectChanges`, and all the requests waiting on
a project share one read of it per notification: 500 agents woken by one
transition cost one database read, and a new long poll on an unchanged
project costs none.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.changes import ProjectChanges
from api.conditional import if_none_match_matches
from shared.auth.principal import PRINCIPAL_RECHECK_S, Action, Principal, authorize
from shared.errors import RequestRejected
from shared.projects import repository
from shared.projects.service import ProjectResult, get_project, project_not_found, project_result

__all__ = ["MAX_WAIT_S", "LongPolls", "wait_for_change"]

MAX_WAIT_S = 60.0
_RECHECK_S = 1.0
"""How often a waiter re-reads the project when no notifications arrive."""
_FULL_RETRY_AFTER_S = 2.0


class LongPolls:
    """The long polls one process serves now; :meth:`slot` refuses one beyond the cap (503)."""

    def __init__(self) -> None:
        self.active = 0

    @contextlib.contextmanager
    def slot(self, cap: int) -> Iterator[None]:
        """Hold one of ``cap`` slots (0: unlimited) for the block, or raise 503."""
        if 0 < cap <= self.active:
            raise RequestRejected(
                503,
                "too_many_long_polls",
                f"this API process serves {cap} long polls already: try again shortly",
                retry_after=_FULL_RETRY_AFTER_S,
            )
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1


Recheck = Callable[[], Awaitable[None]]
"""Raises (401) once the caller's token is revoked or expired."""


async def _still_allowed() -> None:
    """The default re-check: nothing to ask."""


async def _fresh(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID
) -> tuple[str, ProjectResult] | None:
    """The project's owner and view, read in a session of its own."""
    async with sessionmaker() as session:
        project = await repository.get_project(session, project_id)
        if project is None:
            return None
        return project.owner, await project_result(session, project)


async def wait_for_change(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    changes: ProjectChanges | None,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    if_none_match: str | None,
    wait_s: float,
    recheck: Recheck = _still_allowed,
) -> ProjectResult:
    """The project once its ETag differs from ``if_none_match`` (or from now), or at timeout.

    ``recheck`` runs at least every :data:`PRINCIPAL_RECHECK_S` while waiting: a
    revoked or expired token ends the wait with its 401.
    """
    authorize(principal, Action.READ)
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    if changes is None:
        return await _poll(session, principal, project_id, if_none_match, deadline, recheck)
    await session.commit()  # authentication's connection goes back to the pool now
    load = partial(_fresh, sessionmaker, project_id)

    async def read() -> ProjectResult:
        found = await changes.read_once(project_id, load)
        if found is None or not principal.can_see_owned_by(found[0]):
            raise project_not_found(project_id)
        return found[1]

    # Subscribe before the first read, so a change between the two is not missed.
    with changes.subscribe(project_id) as event:
        result = await read()
        structlog.contextvars.bind_contextvars(project_id=str(project_id))
        seen = if_none_match or result.etag
        while if_none_match_matches(seen, result.etag):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            listening = changes.listening
            step = min(left, PRINCIPAL_RECHECK_S if listening else _RECHECK_S)
            try:
                await asyncio.wait_for(event.wait(), step)
                woken = True
            except TimeoutError:
                woken = False
            await recheck()
            if listening and not woken:
                continue  # nothing announced: the project is unchanged
            event.clear()
            result = await read()
        return result


async def _poll(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    if_none_match: str | None,
    deadline: float,
    recheck: Recheck,
) -> ProjectResult:
    """Without a change listener: re-read the project once a second."""
    result = await get_project(session, principal, project_id)
    seen = if_none_match or result.etag
    while if_none_match_matches(seen, result.etag) and time.monotonic() < deadline:
        await session.commit()  # hand the connection back while we wait
        session.expunge_all()
        await asyncio.sleep(min(_RECHECK_S, max(0.0, deadline - time.monotonic())))
        await recheck()
        result = await get_project(session, principal, project_id)
    return result

"""Long polls: ``GET /api/projects/{id}?wait=SECONDS`` answers when the project changes.

The request's session is committed (its connection goes back to the pool)
before waiting, so hundreds of waiters hold no database connection. They are
woken by :class:`api.changes.ProjectChanges`, and all the waiters of a project
woken by one notification share one read of it (the owner never changes, so
the visibility checked on the first read still holds).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import Principal
from api.changes import ProjectChanges
from api.conditional import if_none_match_matches
from api.projects.service import ProjectResult, get_project, project_result
from shared.projects import repository

__all__ = ["MAX_WAIT_S", "wait_for_change"]

MAX_WAIT_S = 60.0
_RECHECK_S = 1.0
"""How often a waiter re-reads the project when no notifications arrive."""


async def _fresh(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID
) -> ProjectResult | None:
    async with sessionmaker() as session:
        project = await repository.get_project(session, project_id)
        return await project_result(session, project) if project is not None else None


async def wait_for_change(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    changes: ProjectChanges | None,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    if_none_match: str | None,
    wait_s: float,
) -> ProjectResult:
    """The project once its ETag differs from ``if_none_match`` (or from now), or at timeout."""
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    with contextlib.ExitStack() as stack:
        # Subscribe before the first read, so a change between the two is not missed.
        event = (
            stack.enter_context(changes.subscribe(project_id))
            if changes is not None
            else asyncio.Event()
        )
        result = await get_project(session, principal, project_id)
        seen = if_none_match or result.etag
        while if_none_match_matches(seen, result.etag):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await session.commit()  # hand the connection back while we wait
            session.expunge_all()
            listening = changes is not None and changes.listening
            try:
                await asyncio.wait_for(event.wait(), left if listening else min(left, _RECHECK_S))
            except TimeoutError:
                if listening:
                    break
            event.clear()
            if changes is None:
                result = await get_project(session, principal, project_id)
                continue
            fresh = await changes.read_once(project_id, partial(_fresh, sessionmaker, project_id))
            if fresh is None:  # gone meanwhile
                result = await get_project(session, principal, project_id)
            else:
                result = fresh
        return result

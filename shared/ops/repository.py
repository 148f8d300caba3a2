"""All SQL of the ops views. Every function takes the caller's session and never commits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, String, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import (
    STATUSES,
    UNFINISHED_STATUSES,
    Project,
    ProjectEvent,
    ProjectSecret,
    ProjectStatus,
)
from shared.projects.repository import Cursor, ProjectPage, project_page

__all__ = [
    "FailedGroup",
    "HourOutcomes",
    "OldestUnfinished",
    "failed_groups",
    "failed_ids",
    "features_in_use",
    "find_projects",
    "hourly_outcomes",
    "oldest_unfinished",
    "secret_errors",
    "status_counts",
]


class HourOutcomes(NamedTuple):
    """Projects that became ready, and that failed, in the hour starting at ``hour``."""

    hour: datetime
    ready: int
    failed: int


class OldestUnfinished(NamedTuple):
    """The unfinished project created first."""

    id: uuid.UUID
    name: str
    status: str
    created_at: datetime


class FailedGroup(NamedTuple):
    """Failed projects sharing one ``last_error.code``."""

    code: str
    projects: int
    latest: datetime
    """When the most recently changed of them last changed."""
    message: str
    """The message of that most recent one (the group's example)."""


async def status_counts(session: AsyncSession) -> dict[str, int]:
    """How many projects are in each status (every status present, 0 when none)."""
    rows = await session.execute(select(Project.status, func.count()).group_by(Project.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


async def hourly_outcomes(
    session: AsyncSession, *, now: datetime, hours: int = 24
) -> list[HourOutcomes]:
    """``ready`` and ``failed`` events per hour over the last ``hours`` hours, oldest first
    (every hour present). A project that failed, was retried and became ready counts in both."""
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    hour = func.date_trunc("hour", ProjectEvent.at)
    stmt = (
        select(hour, ProjectEvent.kind, func.count())
        .where(ProjectEvent.kind.in_(("ready", "failed")), ProjectEvent.at >= first)
        .group_by(hour, ProjectEvent.kind)
    )
    found: dict[tuple[datetime, str], int] = {}
    for at, kind, count in await session.execute(stmt):
        found[(at.astimezone(first.tzinfo), kind)] = int(count)
    slots = [first + timedelta(hours=i) for i in range(hours)]
    return [HourOutcomes(h, found.get((h, "ready"), 0), found.get((h, "failed"), 0)) for h in slots]


async def oldest_unfinished(session: AsyncSession) -> OldestUnfinished | None:
    """The unfinished (``pending_repo``/``provisioning``) project created first, if any."""
    candidates = []
    for status in UNFINISHED_STATUSES:  # one index range each: (status, created_at, id)
        stmt = (
            select(Project.id, Project.name, Project.status, Project.created_at)
            .where(Project.status == status)
            .order_by(Project.created_at, Project.id)
            .limit(1)
        )
        row = (await session.execute(stmt)).first()
        if row is not None:
            candidates.append(OldestUnfinished(*row))
    return min(candidates, key=lambda c: c.created_at, default=None)


async def failed_groups(session: AsyncSession) -> list[FailedGroup]:
    """Failed projects by ``last_error_code``, largest group first."""
    code = func.coalesce(Project.last_error_code, literal("unknown")).label("code")
    newest_message = func.array_agg(
        aggregate_order_by(Project.last_error_message, Project.updated_at.desc())
    )[1]
    stmt = (
        select(code, func.count(), func.max(Project.updated_at), newest_message)
        .where(Project.status == ProjectStatus.REPO_FAILED)
        .group_by(code)
        .order_by(func.count().desc(), code)
    )
    return [
        FailedGroup(str(c), int(n), at, message or "")
        for c, n, at, message in await session.execute(stmt)
    ]


def _error_code_is(code: str) -> ColumnElement[bool]:
    if code == "unknown":
        return or_(Project.last_error_code.is_(None), Project.last_error_code == code)
    return Project.last_error_code == code


async def failed_ids(session: AsyncSession, code: str, *, limit: int) -> list[uuid.UUID]:
    """Ids of up to ``limit`` failed projects with ``last_error_code`` ``code``, oldest first."""
    stmt = (
        select(Project.id)
        .where(Project.status == ProjectStatus.REPO_FAILED, _error_code_is(code))
        .order_by(Project.created_at, Project.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


_ID_PREFIX_MIN = 8


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_projects(
    session: AsyncSession,
    *,
    query: str | None,
    status: str | None,
    error_code: str | None,
    limit: int,
    after: Cursor | None,
) -> ProjectPage:
    """Projects newest first, one keyset page after ``after``.

    ``query`` is a project id, an owner (exactly) or part of a name or repository
    name (case-insensitive); ``status`` and ``error_code`` narrow further.
    """
    stmt = select(Project)
    if query:
        try:
            stmt = stmt.where(Project.id == uuid.UUID(query))
        except ValueError:
            pattern = _like(query)
            matches = [
                Project.owner == query,
                Project.name.ilike(pattern, escape="\\"),
                Project.repo_name.ilike(pattern, escape="\\"),
            ]
            if len(query) >= _ID_PREFIX_MIN:  # the start of an id, as people copy it
                matches.append(cast(Project.id, String).startswith(query.lower(), autoescape=True))
            stmt = stmt.where(or_(*matches))
    if status is not None:
        stmt = stmt.where(Project.status == status)
    if error_code is not None:
        stmt = stmt.where(_error_code_is(error_code))
    return await project_page(session, stmt, after=after, limit=limit)


async def features_in_use(session: AsyncSession) -> set[str]:
    """The ``repository`` keys any project asked for (``topics``, ``teams``, ``template``...)."""
    stmt = select(func.jsonb_object_keys(Project.repository_settings)).distinct()
    return {str(key) for key in (await session.execute(stmt)).scalars()}


async def secret_errors(session: AsyncSession, project_id: uuid.UUID) -> dict[str, str]:
    """``{name: "code: message"}`` of the project's secrets that GitHub refused (or purged)."""
    stmt = select(ProjectSecret.name, ProjectSecret.error_code, ProjectSecret.error_message).where(
        ProjectSecret.project_id == project_id, ProjectSecret.error_code.is_not(None)
    )
    return {
        name: f"{code}: {message or ''}".rstrip(": ")
        for name, code, message in await session.execute(stmt)
    }

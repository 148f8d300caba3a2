"""All SQL about projects, their events and secrets, and API tokens.

Every function takes the caller's :class:`AsyncSession` and never commits:
the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import (
    GONE_STATUSES,
    UNFINISHED_STATUSES,
    Project,
    ProjectEvent,
    ProjectSecret,
    ProjectStatus,
    SecretState,
)

__all__ = [
    "SECRET_PURGED",
    "Cursor",
    "ProjectPage",
    "add_event",
    "add_secrets",
    "find_by_idempotency_key",
    "get_project",
    "insert_project",
    "list_events",
    "list_projects",
    "project_page",
    "purge_failed_secrets",
    "record_secret_outcomes",
    "replace_ciphertext",
    "repo_name_in_use",
    "requeues_without_progress",
    "secret_states",
    "secret_states_of",
    "stale_unfinished",
    "stored_ciphertexts",
]

SECRET_PURGED = "secret_purged"
"""A secret's error code once its stored value was purged (``SECRETS_RETENTION_DAYS``)."""

Cursor = tuple[datetime, uuid.UUID]
"""A position in a project listing: the last row's ``(created_at, id)``."""

# Rendered inline, not as bound parameters, so the planner can match the partial indexes.
_UNFINISHED = Project.status.in_(
    bindparam("unfinished", list(UNFINISHED_STATUSES), expanding=True, literal_execute=True)
)
_GONE = list(GONE_STATUSES)
_LIVE = Project.status.not_in(bindparam("gone", _GONE, expanding=True, literal_execute=True))


class ProjectPage(NamedTuple):
    """One page of projects, newest first; ``next_after`` is None on the last page."""

    items: list[Project]
    next_after: Cursor | None


async def get_project(
    session: AsyncSession, project_id: uuid.UUID, *, for_update: bool = False
) -> Project | None:
    """The project, or None; ``for_update`` locks its row until the transaction ends."""
    stmt = select(Project).where(Project.id == project_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def find_by_idempotency_key(session: AsyncSession, owner: str, key: str) -> Project | None:
    """The project ``owner`` created with this ``Idempotency-Key``, if any."""
    stmt = select(Project).where(Project.owner == owner, Project.idempotency_key == key)
    result = await session.execute(stmt)
    return result.scalar_one_or_none()


async def insert_project(
    session: AsyncSession,
    *,
    id: uuid.UUID,
    name: str,
    repo_name: str,
    description: str | None,
    config: Mapping[str, Any],
    owner: str,
    idempotency_key: str | None,
    request_fingerprint: str | None,
    status: str = ProjectStatus.PENDING_REPO,
    repository_settings: Mapping[str, Any] | None = None,
) -> Project:
    """Insert a project and flush, so constraint violations surface here."""
    project = Project(
        id=id,
        name=name,
        repo_name=repo_name,
        description=description,
        config=dict(config),
        owner=owner,
        status=str(status),
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        repository_settings=dict(repository_settings or {}),
        # Known to be NULL: given, so the flush does not read them back after the INSERT.
        generation_started_at=None,
        create_requested_at=None,
        provisioned_at=None,
    )
    session.add(project)
    await session.flush()
    return project


async def list_projects(
    session: AsyncSession,
    *,
    owner: str | None = None,
    owners: Collection[str] | None = None,
    status: str | None,
    limit: int,
    after: Cursor | None,
) -> ProjectPage:
    """Projects newest first, optionally of one owner (or of ``owners``) and/or status,
    after a cursor."""
    stmt = select(Project)
    if owner is not None:
        stmt = stmt.where(Project.owner == owner)
    if owners is not None:
        chosen = sorted(owners)
        if len(chosen) == 1:
            stmt = stmt.where(Project.owner == chosen[0])
        else:
            stmt = stmt.where(Project.owner.in_(chosen))
    if status is not None:
        stmt = stmt.where(Project.status == status)
    return await project_page(session, stmt, after=after, limit=limit)


async def project_page(
    session: AsyncSession, stmt: Select[Project], *, after: Cursor | None, limit: int
) -> ProjectPage:
    """One page of ``stmt``'s projects, newest first, after the keyset cursor ``after``."""
    if after is not None:
        cursor = tuple_(*after, types=[Project.created_at.type, Project.id.type])
        stmt = stmt.where(tuple_(Project.created_at, Project.id) < cursor)
    stmt = stmt.order_by(Project.created_at.desc(), Project.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    items = rows[:limit]
    return ProjectPage(items, (items[-1].created_at, items[-1].id) if len(rows) > limit else None)


async def list_events(
    session: AsyncSession, project_id: uuid.UUID, *, limit: int, after_id: int | None = None
) -> list[ProjectEvent]:
    """A project's events, oldest first, those with an id above ``after_id``."""
    stmt = select(ProjectEvent).where(ProjectEvent.project_id == project_id)
    if after_id is not None:
        stmt = stmt.where(ProjectEvent.id > after_id)
    stmt = stmt.order_by(ProjectEvent.id).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def add_event(
    session: AsyncSession,
    project: Project,
    kind: str,
    data: Mapping[str, Any] | None = None,
    attempt: int | None = None,
    *,
    flush: bool = True,
) -> ProjectEvent:
    """Append an event to the project's history, in its current generation (``flush=False``:
    inserted with the session's next flush, together with what else changes until then)."""
    event = ProjectEvent(
        project_id=project.id,
        kind=kind,
        generation=project.generation,
        attempt=attempt,
        data=dict(data or {}),
    )
    session.add(event)
    if flush:
        await session.flush()
    return event


async def add_secrets(
    session: AsyncSession, project_id: uuid.UUID, ciphertexts: Mapping[str, bytes]
) -> None:
    """Store encrypted secret values, each ``pending`` until GitHub has it."""
    session.add_all(
        ProjectSecret(project_id=project_id, name=name, ciphertext=value, state=SecretState.PENDING)
        for name, value in ciphertexts.items()
    )
    await session.flush()


async def record_secret_outcomes(
    session: AsyncSession,
    project_id: uuid.UUID,
    outcomes: Mapping[str, tuple[str, str | None, str | None]],
) -> None:
    """Record ``{name: (state, error_code, error_message)}``; a ``set`` secret's value is wiped."""
    for name, (state, code, message) in outcomes.items():
        values: dict[str, Any] = {
            "state": str(state),
            "error_code": code,
            "error_message": message,
            "updated_at": func.now(),
        }
        if state == SecretState.SET:
            values["ciphertext"] = None
        stmt = (
            update(ProjectSecret)
            .where(ProjectSecret.project_id == project_id, ProjectSecret.name == name)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.execute(stmt)


async def secret_states(session: AsyncSession, project_id: uuid.UUID) -> list[tuple[str, str]]:
    """``(name, state)`` of each of the project's secrets, by name."""
    return (await secret_states_of(session, [project_id]))[project_id]


async def secret_states_of(
    session: AsyncSession, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """``(name, state)`` of the secrets of several projects, in one query, by name."""
    found: dict[uuid.UUID, list[tuple[str, str]]] = {pid: [] for pid in project_ids}
    if not project_ids:
        return found
    stmt = (
        select(ProjectSecret.project_id, ProjectSecret.name, ProjectSecret.state)
        .where(ProjectSecret.project_id.in_(project_ids))
        .order_by(ProjectSecret.project_id, ProjectSecret.name)
    )
    for project_id, name, state in await session.execute(stmt):
        found[project_id].append((name, state))
    return found


async def requeues_without_progress(session: AsyncSession, project: Project) -> int:
    """How many times in a row, most recent first, the sweeper re-submitted the project's
    generation with nothing happening in between (no attempt, no step, no deferral)."""
    stmt = (
        select(ProjectEvent.kind)
        .where(ProjectEvent.project_id == project.id, ProjectEvent.generation == project.generation)
        .order_by(ProjectEvent.id.desc())
        .limit(100)
    )
    count = 0
    for kind in (await session.execute(stmt)).scalars():
        if kind != "requeued_by_sweeper":
            break
        count += 1
    return count


async def stale_unfinished(
    session: AsyncSession, *, older_than: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """``(id, generation)`` of unfinished projects untouched since ``older_than``, oldest first.

    A project waiting for a scheduled retry counts only once that retry is overdue too.
    """
    stmt = (
        select(Project.id, Project.generation)
        .where(
            _UNFINISHED,
            Project.updated_at < older_than,
            (Project.next_attempt_at.is_(None)) | (Project.next_attempt_at < older_than),
        )
        .order_by(Project.updated_at)
        .limit(limit)
    )
    return [(project_id, generation) for project_id, generation in await session.execute(stmt)]


async def repo_name_in_use(
    session: AsyncSession, repo_name: str, *, excluding: uuid.UUID | None = None
) -> bool:
    """Whether a live (not failed) project, other than ``excluding``, owns this name."""
    stmt = select(Project.id).where(func.lower(Project.repo_name) == func.lower(repo_name), _LIVE)
    if excluding is not None:
        stmt = stmt.where(Project.id != excluding)
    return (await session.execute(stmt.limit(1))).first() is not None


async def stored_ciphertexts(
    session: AsyncSession, *, after: tuple[uuid.UUID, str] | None, limit: int
) -> list[tuple[uuid.UUID, str, bytes]]:
    """Encrypted secret values still stored, in ``(project_id, name)`` order after ``after``."""
    stmt = select(ProjectSecret.project_id, ProjectSecret.name, ProjectSecret.ciphertext).where(
        ProjectSecret.ciphertext.is_not(None)
    )
    if after is not None:
        stmt = stmt.where(tuple_(ProjectSecret.project_id, ProjectSecret.name) > after)
    stmt = stmt.order_by(ProjectSecret.project_id, ProjectSecret.name).limit(limit)
    return [(p, n, bytes(c)) for p, n, c in await session.execute(stmt) if c is not None]


async def replace_ciphertext(
    session: AsyncSession, project_id: uuid.UUID, name: str, old: bytes, new: bytes
) -> bool:
    """Store ``new`` for the secret unless its value changed since ``old`` was read."""
    stmt = (
        update(ProjectSecret)
        .where(
            ProjectSecret.project_id == project_id,
            ProjectSecret.name == name,
            ProjectSecret.ciphertext == old,
        )
        .values(ciphertext=new)
        .execution_options(synchronize_session=False)
    )
    return bool((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def purge_failed_secrets(
    session: AsyncSession, *, older_than: datetime, limit: int
) -> dict[uuid.UUID, list[str]]:
    """Wipe the stored values of projects ``repo_failed`` since before ``older_than``.

    The secrets stay listed, ``failed`` with error ``secret_purged``; returns what was
    wiped, by project.
    """
    failed = (
        select(Project.id)
        .where(
            Project.status == ProjectStatus.REPO_FAILED,
            Project.updated_at < older_than,
        )
        .limit(limit)
        .scalar_subquery()
    )
    stmt = (
        update(ProjectSecret)
        .where(ProjectSecret.project_id.in_(failed), ProjectSecret.ciphertext.is_not(None))
        .values(
            ciphertext=None,
            state=SecretState.FAILED,
            error_code=SECRET_PURGED,
            error_message="the value was purged: the project stayed repo_failed too long",
            updated_at=func.now(),
        )
        .returning(ProjectSecret.project_id, ProjectSecret.name)
        .execution_options(synchronize_session=False)
    )
    wiped: dict[uuid.UUID, list[str]] = {}
    for project_id, name in await session.execute(stmt):
        wiped.setdefault(project_id, []).append(name)
    return wiped


async def lock_owner(session: AsyncSession, owner: str) -> None:
    """Serialize, until the transaction ends, the creates of ``owner`` (an advisory lock)."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended("projects-owner:" + owner, 0)))
    )


async def count_live(session: AsyncSession, owner: str, *, up_to: int) -> int:
    """How many live (not failed) projects ``owner`` has, counting no further than ``up_to``."""
    live = select(Project.id).where(Project.owner == owner, _LIVE).limit(up_to).subquery()
    return int(await session.scalar(select(func.count()).select_from(live)) or 0)


async def project_versions(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The current ``version`` of each project that exists, in one query."""
    stmt = select(Project.id, Project.version).where(Project.id.in_(ids))
    return {row.id: row.version for row in await session.execute(stmt)}

"""After ``ready``: the transitions a request asks for (change, secrets, archive, reconcile).

Like :mod:`shared.projects.lifecycle`, each function takes a project loaded
``for_update`` in this session, changes the row, writes one event and never
commits. Each returns whether a maintenance job must be enqueued after the commit.

A change bumps ``sync_generation`` and leaves the status alone: a ``ready`` project
stays ``ready`` while the worker converges GitHub (``sync.state`` shows it). A
project still provisioning keeps the change for its job; an archive asked then
waits for the job's end (:func:`hand_over_removal`), never cutting a step short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects import repository
from shared.projects.lifecycle import TransitionNotAllowed
from shared.projects.models import (
    UNFINISHED_STATUSES,
    Project,
    ProjectSecret,
    ProjectSetting,
    ProjectStatus,
    Removal,
    SecretState,
    SyncState,
)

__all__ = [
    "CHANGEABLE_STATUSES",
    "SECRETS_CHANGEABLE_STATUSES",
    "hand_over_removal",
    "request_reconcile",
    "request_removal",
    "request_secret_removal",
    "request_secret_set",
    "request_update",
    "wipe_secret_values",
]

CHANGEABLE_STATUSES: tuple[str, ...] = (
    *UNFINISHED_STATUSES,
    ProjectStatus.READY,
    ProjectStatus.REPO_FAILED,
    ProjectStatus.REPO_MISSING,
)
"""A project whose repository is archived, or going to be, takes no more changes."""
SECRETS_CHANGEABLE_STATUSES: tuple[str, ...] = (
    ProjectStatus.READY,
    ProjectStatus.REPO_FAILED,
    ProjectStatus.REPO_MISSING,
)
"""Secrets change when no provisioning job is sending them (its outcomes would race)."""
_MAINTAINED = (ProjectStatus.READY, ProjectStatus.ARCHIVING)


def _touch(project: Project) -> None:
    project.version = project.version + 1
    project.updated_at = func.now()


def _require(project: Project, action: str, allowed: tuple[str, ...]) -> None:
    if project.status not in allowed:
        raise TransitionNotAllowed(project.status, action)


def _bump_sync(project: Project) -> None:
    project.sync_generation = project.sync_generation + 1
    project.sync_state = SyncState.PENDING
    project.sync_error_code = None
    project.sync_error_message = None


async def request_update(
    session: AsyncSession,
    project: Project,
    *,
    description: str | None,
    config: Mapping[str, Any],
    repository_settings: Mapping[str, Any],
    setting_keys: list[str],
    changed: list[str],
    actor: str,
) -> bool:
    """Store the merged project (event ``update_requested`` naming the ``changed`` fields)."""
    _require(project, "change", CHANGEABLE_STATUSES)
    project.description = description
    project.config = dict(config)
    project.repository_settings = dict(repository_settings)
    if setting_keys:  # a row per setting asked, ``pending`` until applied; old rows stay
        stmt = insert(ProjectSetting).values(
            [{"project_id": project.id, "setting": key} for key in setting_keys]
        )
        await session.execute(stmt.on_conflict_do_nothing())
    _bump_sync(project)
    _touch(project)
    await repository.add_event(
        session,
        project,
        "update_requested",
        {"actor": actor, "changed": changed, "sync_generation": project.sync_generation},
    )
    return project.status == ProjectStatus.READY


async def request_secret_set(
    session: AsyncSession, project: Project, name: str, ciphertext: bytes, *, actor: str
) -> bool:
    """Set or rotate secret ``name`` (stored encrypted until GitHub has it)."""
    _require(project, "change the secrets of", SECRETS_CHANGEABLE_STATUSES)
    stmt = insert(ProjectSecret).values(
        project_id=project.id, name=name, ciphertext=ciphertext, state=SecretState.PENDING
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ProjectSecret.project_id, ProjectSecret.name],
        set_={
            "ciphertext": ciphertext,
            "state": SecretState.PENDING,
            "error_code": None,
            "error_message": None,
            "updated_at": func.now(),
        },
    )
    await session.execute(stmt)
    _bump_sync(project)
    _touch(project)
    await repository.add_event(
        session, project, "secret_set_requested", {"name": name, "actor": actor}
    )
    return project.status == ProjectStatus.READY


async def request_secret_removal(
    session: AsyncSession, project: Project, name: str, *, actor: str
) -> bool | None:
    """Remove secret ``name``: ``removing`` until GitHub no longer has it (``None``: no such
    secret). Without a repository to remove it from, the row goes at once."""
    _require(project, "change the secrets of", SECRETS_CHANGEABLE_STATUSES)
    found = await session.scalar(
        select(ProjectSecret.name).where(
            ProjectSecret.project_id == project.id, ProjectSecret.name == name
        )
    )
    if found is None:
        return None
    where = (ProjectSecret.project_id == project.id) & (ProjectSecret.name == name)
    if project.status == ProjectStatus.READY:
        await session.execute(
            update(ProjectSecret)
            .where(where)
            .values(state=SecretState.REMOVING, ciphertext=None, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        _bump_sync(project)
    else:
        await session.execute(delete(ProjectSecret).where(where))
    _touch(project)
    await repository.add_event(
        session, project, "secret_removal_requested", {"name": name, "actor": actor}
    )
    return project.status == ProjectStatus.READY


async def wipe_secret_values(session: AsyncSession, project_id: Any) -> None:
    """Forget every stored secret value of the project (it is being archived)."""
    await session.execute(
        update(ProjectSecret)
        .where(ProjectSecret.project_id == project_id, ProjectSecret.ciphertext.is_not(None))
        .values(ciphertext=None, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def request_removal(
    session: AsyncSession, project: Project, *, purge: bool, actor: str
) -> bool:
    """Archive the repository (``purge``: delete it). Idempotent: asking again changes
    nothing, asking to purge an archived project purges it."""
    mode = Removal.PURGE if purge else Removal.ARCHIVE
    if project.status == ProjectStatus.DELETED or (
        project.status == ProjectStatus.ARCHIVED and not purge
    ):
        return False
    if project.removal == Removal.PURGE or project.removal == mode:
        return False  # already asked (and no weaker ask undoes a purge)
    project.removal = mode
    _touch(project)
    await repository.add_event(
        session, project, "archive_requested", {"mode": mode, "actor": actor}
    )
    if project.status == ProjectStatus.PROVISIONING:
        return False  # its job hands over at its end: see hand_over_removal
    await _begin_removal(session, project)
    return True


async def _begin_removal(session: AsyncSession, project: Project) -> None:
    project.status = ProjectStatus.ARCHIVING
    project.sync_state = None if project.sync_state == SyncState.PENDING else project.sync_state
    project.reconcile_requested = False
    await wipe_secret_values(session, project.id)


async def hand_over_removal(session: AsyncSession, project: Project) -> bool:
    """At a provisioning job's end: when an archive was asked meanwhile, the project goes
    ``archiving`` (event ``archiving``) and a maintenance job must follow."""
    if project.removal is None or project.status not in (*UNFINISHED_STATUSES, ProjectStatus.READY):
        return False
    await _begin_removal(session, project)
    _touch(project)
    await repository.add_event(session, project, "archiving", {"mode": project.removal})
    return True


async def request_reconcile(session: AsyncSession, project: Project, *, actor: str) -> bool:
    """Check the repository for drift now (event ``reconcile_requested``)."""
    _require(project, "reconcile", (ProjectStatus.READY,))
    project.reconcile_requested = True
    _touch(project)
    await repository.add_event(session, project, "reconcile_requested", {"actor": actor})
    return project.status in _MAINTAINED


async def reconcile_for_repository(
    session: AsyncSession, repo_github_id: int, *, event: str, action: str | None
) -> Project | None:
    """A webhook says repository ``repo_github_id`` changed: its ready project reconciles
    (event ``webhook_received``). ``None`` when no ready project has it."""
    project = await session.scalar(
        select(Project)
        .where(Project.repo_github_id == repo_github_id, Project.status == ProjectStatus.READY)
        .with_for_update()
    )
    if project is None:
        return None
    project.reconcile_requested = True
    await repository.add_event(
        session, project, "webhook_received", {"event": event, "action": action}
    )
    return project

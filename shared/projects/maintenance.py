"""What a maintenance job reads and records: one job per project at a time (a lease),
the work it claims, and the outcome it saves.

A maintenance job works on ``ready`` projects (changes, secrets, drift correction)
and on ``archiving`` ones. :func:`claim` takes the project's lease and snapshots the
work; :func:`finish` saves the outcome and says whether more work arrived meanwhile
(the same job goes on) or releases the lease.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects import repository
from shared.projects.after_ready import wipe_secret_values
from shared.projects.models import (
    Project,
    ProjectSecret,
    ProjectSetting,
    ProjectStatus,
    Removal,
    SecretState,
    SettingState,
    SyncState,
)
from shared.projects.reconcile_schedule import next_reconcile_at

__all__ = [
    "MaintenanceOutcome",
    "MaintenanceWork",
    "StoredSetting",
    "claim",
    "finish",
    "release",
]


@dataclass(frozen=True)
class StoredSetting:
    """A setting row as the job found it."""

    digest: str | None
    github_id: int | None


@dataclass(frozen=True)
class MaintenanceWork:
    """What one round of a maintenance job is to do, read under the project's lock."""

    project_id: uuid.UUID
    status: str
    removal: str | None
    sync_generation: int
    sync: bool
    """Changes are waiting (a PATCH, a secret set or removed)."""
    reconcile: bool
    name: str
    owner: str
    description: str | None
    applied_description: str | None
    config: Mapping[str, Any]
    repository_settings: Mapping[str, Any]
    repo: Mapping[str, Any]
    """The stored repository columns (``repo_*``, ``project_file_*``, ``actions_*``)."""
    secret_names: Sequence[str]
    """Every secret the project has (not being removed), for ``.project.yaml``."""
    pending_secrets: Mapping[str, bytes]
    removing_secrets: Sequence[str]
    settings: Mapping[str, StoredSetting]


@dataclass
class MaintenanceOutcome:
    """What the job did, saved by :func:`finish`."""

    settings_applied: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    settings_removed: list[str] = field(default_factory=list)
    settings_failed: dict[str, str] = field(default_factory=dict)
    project_file: tuple[str, str] | None = None
    """``(blob sha, digest)`` of a ``.project.yaml`` committed."""
    description_applied: bool = False
    secrets_set: dict[str, bytes] = field(default_factory=dict)
    """Secrets GitHub now has, with the ciphertext that was sent."""
    secrets_removed: list[str] = field(default_factory=list)
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``{setting: {"was": ..., "now": ...}}`` corrected by reconcile."""
    reconciled: bool = False
    missing: str | None = None
    """``deleted`` or ``archived``: the repository is gone from under us."""
    removed: bool = False
    """The archive or purge is done."""
    unarchived: bool = False


def _touch(project: Project) -> None:
    project.version = project.version + 1
    project.updated_at = func.now()


async def claim(
    session: AsyncSession, project_id: uuid.UUID, *, lease_s: float, now: datetime
) -> MaintenanceWork | None:
    """Take the project's lease and snapshot its work; ``None``: nothing to do, or another
    job holds the lease (it sees whatever made this job before it lets go)."""
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None or project.status not in (ProjectStatus.READY, ProjectStatus.ARCHIVING):
        return None
    lease = project.maintenance_lease_until
    if lease is not None and lease > now:
        return None
    sync = project.sync_state in (SyncState.PENDING, SyncState.APPLYING)
    due = project.reconcile_due_at is not None and project.reconcile_due_at <= now
    reconcile = project.status == ProjectStatus.READY and (project.reconcile_requested or due)
    if project.status == ProjectStatus.READY and not sync and not reconcile:
        return None
    project.maintenance_lease_until = now + timedelta(seconds=lease_s)
    project.reconcile_requested = False
    if project.sync_state == SyncState.PENDING:
        project.sync_state = SyncState.APPLYING
        _touch(project)
    rows = (
        await session.execute(
            select(ProjectSecret.name, ProjectSecret.state, ProjectSecret.ciphertext)
            .where(ProjectSecret.project_id == project_id)
            .order_by(ProjectSecret.name)
        )
    ).all()
    settings = (
        await session.execute(select(ProjectSetting).where(ProjectSetting.project_id == project_id))
    ).scalars()
    return MaintenanceWork(
        project_id=project.id,
        status=project.status,
        removal=project.removal,
        sync_generation=project.sync_generation,
        sync=sync,
        reconcile=reconcile,
        name=project.name,
        owner=project.owner,
        description=project.description,
        applied_description=project.applied_description,
        config=dict(project.config or {}),
        repository_settings=dict(project.repository_settings or {}),
        repo={
            column: getattr(project, column)
            for column in (
                "repo_github_id",
                "repo_owner",
                "repo_full_name",
                "repo_html_url",
                "repo_clone_url",
                "repo_default_branch",
                "project_file_sha",
                "project_file_digest",
                "actions_key_id",
                "actions_public_key",
            )
        },
        secret_names=[n for n, s, _ in rows if s != SecretState.REMOVING],
        pending_secrets={n: bytes(c) for n, s, c in rows if s != SecretState.SET and c is not None},
        removing_secrets=[n for n, s, _ in rows if s == SecretState.REMOVING],
        settings={
            row.setting: StoredSetting(
                row.digest if row.state == SettingState.APPLIED else None, row.github_id
            )
            for row in settings
        },
    )


async def _save_settings(
    session: AsyncSession, project_id: uuid.UUID, outcome: MaintenanceOutcome
) -> None:
    where = ProjectSetting.project_id == project_id
    for key, (digest, github_id) in outcome.settings_applied.items():
        await session.execute(
            update(ProjectSetting)
            .where(where, ProjectSetting.setting == key)
            .values(
                state=SettingState.APPLIED,
                digest=digest,
                github_id=github_id,
                code=None,
                message=None,
                updated_at=func.now(),
            )
        )
    for key, message in outcome.settings_failed.items():
        await session.execute(
            update(ProjectSetting)
            .where(where, ProjectSetting.setting == key)
            .values(
                state=SettingState.FAILED,
                code="setting_rejected",
                message=message,
                updated_at=func.now(),
            )
        )
    if outcome.settings_removed:
        await session.execute(
            delete(ProjectSetting).where(
                where, ProjectSetting.setting.in_(outcome.settings_removed)
            )
        )


async def _save_secrets(
    session: AsyncSession, project_id: uuid.UUID, outcome: MaintenanceOutcome
) -> None:
    for name, sent in outcome.secrets_set.items():
        # A value rotated again while this one was on its way stays pending.
        await session.execute(
            update(ProjectSecret)
            .where(
                ProjectSecret.project_id == project_id,
                ProjectSecret.name == name,
                ProjectSecret.ciphertext == sent,
            )
            .values(
                state=SecretState.SET,
                ciphertext=None,
                error_code=None,
                error_message=None,
                updated_at=func.now(),
            )
        )
    if outcome.secrets_removed:
        await session.execute(
            delete(ProjectSecret).where(
                ProjectSecret.project_id == project_id,
                ProjectSecret.name.in_(outcome.secrets_removed),
                ProjectSecret.state == SecretState.REMOVING,
            )
        )


async def finish(
    session: AsyncSession,
    work: MaintenanceWork,
    outcome: MaintenanceOutcome,
    *,
    reconcile_interval_s: float,
    attempt: int,
) -> bool:
    """Save what the round did; True when more work is waiting (the lease is kept)."""
    project = await repository.get_project(session, work.project_id, for_update=True)
    if project is None:
        return False
    await _save_settings(session, project.id, outcome)
    await _save_secrets(session, project.id, outcome)
    now = datetime.now(UTC)
    visible = False
    if outcome.project_file is not None:
        project.project_file_sha, project.project_file_digest = outcome.project_file
    if outcome.description_applied:
        project.applied_description = work.description
    if outcome.drift:
        visible = True
        await repository.add_event(
            session, project, "drift_corrected", {"settings": outcome.drift}, attempt=attempt
        )
    if outcome.reconciled:
        visible = True
        project.last_reconciled_at = now
        project.reconcile_due_at = next_reconcile_at(now, reconcile_interval_s)
    if outcome.missing is not None and project.status == ProjectStatus.READY:
        project.status = ProjectStatus.REPO_MISSING
        project.missing_reason = outcome.missing
        project.reconcile_due_at = None
        visible = True
        await repository.add_event(
            session, project, "repo_missing", {"reason": outcome.missing}, attempt=attempt
        )
    if outcome.removed and project.status == ProjectStatus.ARCHIVING:
        purged = project.removal == Removal.PURGE
        project.status = ProjectStatus.DELETED if purged else ProjectStatus.ARCHIVED
        project.reconcile_due_at = None
        await wipe_secret_values(session, project.id)
        visible = True
        await repository.add_event(
            session, project, "deleted" if purged else "archived", attempt=attempt
        )
    if work.sync and project.status == ProjectStatus.READY:
        visible = True
        if outcome.settings_failed:
            project.sync_state = SyncState.FAILED
            project.sync_error_code = "setting_rejected"
            project.sync_error_message = "; ".join(outcome.settings_failed.values())
        elif project.sync_generation == work.sync_generation:
            project.sync_state = SyncState.APPLIED
            project.sync_applied_generation = work.sync_generation
            project.sync_error_code = project.sync_error_message = None
        if project.sync_state in (SyncState.APPLIED, SyncState.FAILED):
            await repository.add_event(
                session,
                project,
                "sync_" + str(project.sync_state),
                {"sync_generation": work.sync_generation, "failed": outcome.settings_failed},
                attempt=attempt,
            )
    if visible:
        _touch(project)
    more = project.status == ProjectStatus.ARCHIVING or (
        project.status == ProjectStatus.READY
        and (
            project.sync_state == SyncState.PENDING
            or project.reconcile_requested
            or (
                project.sync_state == SyncState.APPLYING
                and project.sync_generation != work.sync_generation
            )
        )
    )
    if not more:
        project.maintenance_lease_until = None
    return more


async def release(
    session: AsyncSession, project_id: uuid.UUID, *, code: str, message: str, will_retry: bool
) -> None:
    """The round failed: let go of the lease, show the error (the job retries or gives up)."""
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None:
        return
    project.maintenance_lease_until = None
    if project.status == ProjectStatus.READY and project.sync_state == SyncState.APPLYING:
        project.sync_error_code, project.sync_error_message = code, message
        if not will_retry:
            project.sync_state = SyncState.FAILED
        _touch(project)
    elif project.status == ProjectStatus.ARCHIVING:
        project.last_error_code, project.last_error_message = code, message
        _touch(project)
    await repository.add_event(
        session,
        project,
        "maintenance_error",
        {"code": code, "message": message, "will_retry": will_retry},
    )

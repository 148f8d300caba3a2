"""The ``project_settings`` rows: each repository setting's state, as the worker records it.

Writes from a job are guarded like the other progress writes: only while the
project is ``provisioning`` in the job's generation, so a stale job cannot touch
a newer generation's outcomes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import Project, ProjectSetting, ProjectStatus, SettingState

__all__ = [
    "add_settings",
    "record_setting_applied",
    "record_setting_failed",
    "record_settings_reset",
    "reset_failed_settings",
    "setting_rows",
    "setting_rows_of",
]


async def add_settings(session: AsyncSession, project_id: uuid.UUID, keys: Iterable[str]) -> None:
    """One ``pending`` row per setting the project asks for."""
    session.add_all(ProjectSetting(project_id=project_id, setting=key) for key in keys)
    await session.flush()


async def setting_rows_of(
    session: AsyncSession, project_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, ProjectSetting]]:
    """The settings rows of several projects in one query, by project and key."""
    found: dict[uuid.UUID, dict[str, ProjectSetting]] = {pid: {} for pid in project_ids}
    if not project_ids:
        return found
    stmt = select(ProjectSetting).where(ProjectSetting.project_id.in_(project_ids))
    for row in (await session.execute(stmt)).scalars():
        found[row.project_id][row.setting] = row
    return found


async def setting_rows(session: AsyncSession, project_id: uuid.UUID) -> dict[str, ProjectSetting]:
    """The project's settings rows by key."""
    return (await setting_rows_of(session, [project_id]))[project_id]


async def _update(
    session: AsyncSession,
    project_id: uuid.UUID,
    generation: int,
    key: str | None,
    **values: Any,
) -> None:
    in_progress = exists().where(
        Project.id == project_id,
        Project.generation == generation,
        Project.status == ProjectStatus.PROVISIONING,
    )
    stmt = update(ProjectSetting).where(ProjectSetting.project_id == project_id, in_progress)
    if key is not None:
        stmt = stmt.where(ProjectSetting.setting == key)
    await session.execute(
        stmt.values(updated_at=func.now(), **values).execution_options(synchronize_session=False)
    )


async def record_settings_reset(
    session: AsyncSession, project_id: uuid.UUID, generation: int
) -> None:
    """A new repository was made: nothing is applied on it yet."""
    await _update(
        session,
        project_id,
        generation,
        None,
        state=SettingState.PENDING,
        digest=None,
        github_id=None,
        code=None,
        message=None,
    )


async def record_setting_applied(
    session: AsyncSession,
    project_id: uuid.UUID,
    generation: int,
    *,
    key: str,
    digest: str,
    github_id: int | None,
) -> None:
    """GitHub has ``key`` as asked (value digest ``digest``)."""
    await _update(
        session,
        project_id,
        generation,
        key,
        state=SettingState.APPLIED,
        digest=digest,
        github_id=github_id,
        code=None,
        message=None,
    )


async def record_setting_failed(
    session: AsyncSession,
    project_id: uuid.UUID,
    generation: int,
    *,
    key: str,
    code: str,
    message: str,
) -> None:
    """GitHub refused ``key`` for good (its digest stays: what was applied before)."""
    await _update(
        session, project_id, generation, key, state=SettingState.FAILED, code=code, message=message
    )


async def reset_failed_settings(session: AsyncSession, project_id: uuid.UUID) -> None:
    """A retry tries refused settings again: they are ``pending`` until it does."""
    stmt = (
        update(ProjectSetting)
        .where(ProjectSetting.project_id == project_id, ProjectSetting.state == SettingState.FAILED)
        .values(state=SettingState.PENDING, code=None, message=None, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)

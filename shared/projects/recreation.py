"""What a ``repo_missing`` project starts its retry with: the repository will be
made again (or unarchived and adopted), so nothing on it counts as applied."""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import ProjectSecret, ProjectSetting, SecretState, SettingState

__all__ = ["SECRET_VALUE_NEEDED", "forget_applied"]

SECRET_VALUE_NEEDED = "secret_value_needed"
"""A secret's error code when its repository is re-made and its value was wiped once set."""


async def forget_applied(session: AsyncSession, project_id: uuid.UUID) -> None:
    """Every setting ``pending`` again; a secret whose value is no longer stored is
    ``failed`` until set again (``PUT /api/projects/{id}/secrets/{NAME}``)."""
    await session.execute(
        update(ProjectSetting)
        .where(ProjectSetting.project_id == project_id)
        .values(state=SettingState.PENDING, digest=None, code=None, message=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ProjectSecret)
        .where(ProjectSecret.project_id == project_id, ProjectSecret.ciphertext.is_(None))
        .values(
            state=SecretState.FAILED,
            error_code=SECRET_VALUE_NEEDED,
            error_message="the repository was lost and its value is not kept: set it again",
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )

"""Durable step progress: each provisioning step's outcome is saved the moment it happens.

The worker calls these between GitHub requests, each in a short transaction of
its own, so that a retry (after a crash, a timeout, a deferral) resumes at the
first unfinished step and asks GitHub nothing about finished ones. Every
update is guarded by the generation and the ``provisioning`` status: a stale
job cannot overwrite a newer generation's progress. None of them changes the
project's ``version`` (its ETag): progress is not visible in the API view.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import (
    Project,
    ProjectEvent,
    ProjectSecret,
    ProjectStatus,
    SecretState,
)
from shared.projects.repository import add_event, get_project

__all__ = [
    "PROGRESS_COLUMNS",
    "record_actions_key",
    "record_create_sent",
    "record_project_file",
    "record_repository",
    "record_secret_set",
    "sent_creates",
]

PROGRESS_COLUMNS: tuple[str, ...] = (
    "repo_github_id",
    "repo_owner",
    "repo_full_name",
    "repo_html_url",
    "repo_clone_url",
    "repo_default_branch",
    "repo_created",
    "project_file_sha",
    "project_file_digest",
    "actions_key_id",
    "actions_public_key",
    "generation_started_at",
)
"""What a new generation starts without (see ``lifecycle.request_retry``)."""


async def _update(
    session: AsyncSession, project_id: uuid.UUID, generation: int, **values: Any
) -> bool:
    stmt = (
        update(Project)
        .where(
            Project.id == project_id,
            Project.generation == generation,
            Project.status == ProjectStatus.PROVISIONING,
        )
        .values(updated_at=func.now(), **values)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_repository(
    session: AsyncSession,
    project_id: uuid.UUID,
    generation: int,
    *,
    github_id: int,
    owner: str,
    full_name: str,
    html_url: str,
    clone_url: str,
    default_branch: str,
    created: bool,
) -> None:
    """The repository exists (we created or adopted it); event ``repo_created``/``repo_adopted``."""
    saved = await _update(
        session,
        project_id,
        generation,
        repo_github_id=github_id,
        repo_owner=owner,
        repo_full_name=full_name,
        repo_html_url=html_url,
        repo_clone_url=clone_url,
        repo_default_branch=default_branch,
        repo_created=created,
    )
    project = await get_project(session, project_id) if saved else None
    if project is not None:
        await add_event(
            session,
            project,
            "repo_created" if created else "repo_adopted",
            {"repo_full_name": full_name, "github_id": github_id},
            attempt=project.attempts,
        )


async def record_create_sent(
    session: AsyncSession, project_id: uuid.UUID, generation: int, *, sent_at: datetime
) -> None:
    """A create request goes out at ``sent_at`` (event ``create_sent``): a repository
    GitHub made from it shortly after may be adopted by a later attempt."""
    project = await get_project(session, project_id)
    if project is None or project.generation != generation:
        return
    await add_event(
        session,
        project,
        "create_sent",
        {"sent_at": sent_at.isoformat()},
        attempt=project.attempts,
    )


async def sent_creates(
    session: AsyncSession, project_id: uuid.UUID, generation: int
) -> tuple[datetime, ...]:
    """When this generation's create requests went out, oldest first."""
    stmt = (
        select(ProjectEvent.data)
        .where(
            ProjectEvent.project_id == project_id,
            ProjectEvent.generation == generation,
            ProjectEvent.kind == "create_sent",
        )
        .order_by(ProjectEvent.id)
    )
    rows = (await session.execute(stmt)).scalars()
    return tuple(datetime.fromisoformat(str(data["sent_at"])) for data in rows)


async def record_project_file(
    session: AsyncSession, project_id: uuid.UUID, generation: int, *, sha: str, digest: str
) -> None:
    """``.project.yaml`` holds the bytes whose SHA-256 is ``digest`` (blob ``sha``)."""
    await _update(session, project_id, generation, project_file_sha=sha, project_file_digest=digest)


async def record_actions_key(
    session: AsyncSession, project_id: uuid.UUID, generation: int, *, key_id: str, key: str
) -> None:
    """The repository's (public) key for sealing secrets, so a resumed job needs no GET."""
    await _update(session, project_id, generation, actions_key_id=key_id, actions_public_key=key)


async def record_secret_set(session: AsyncSession, project_id: uuid.UUID, name: str) -> None:
    """GitHub has secret ``name``: state ``set``, its value wiped at once."""
    stmt = (
        update(ProjectSecret)
        .where(ProjectSecret.project_id == project_id, ProjectSecret.name == name)
        .values(
            state=SecretState.SET,
            ciphertext=None,
            error_code=None,
            error_message=None,
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(stmt)

"""Durable step progress: each provisioning step's outcome is saved the moment it happens.

The worker calls these between GitHub requests, so that a retry (after a crash,
a timeout, a deferral) resumes at the first unfinished step and asks GitHub
nothing about finished ones. Each is one statement (a row's update and its event
in one CTE), atomic by itself, so it can commit on its own
(:func:`shared.db.engine.autocommit_scope`): one round trip. Every update is
guarded by the generation and the ``provisioning`` status: a stale job cannot
overwrite a newer generation's progress. None of them changes the project's
``version`` (its ETag): progress is not visible in the API view.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Insert,
    SQLColumnExpression,
    Update,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import (
    Project,
    ProjectEvent,
    ProjectSecret,
    ProjectStatus,
    SecretState,
)
from shared.projects.repository import SECRET_PURGED

__all__ = [
    "PROGRESS_COLUMNS",
    "SecretRow",
    "pending_values",
    "purged_names",
    "record_actions_key",
    "record_create_sent",
    "record_project_file",
    "record_repository",
    "record_secrets_set",
    "secret_rows",
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


class SecretRow(NamedTuple):
    """One of a project's secrets as a job starts from it."""

    name: str
    state: str
    error_code: str | None
    ciphertext: bytes | None


async def secret_rows(session: AsyncSession, project_id: uuid.UUID) -> list[SecretRow]:
    """Every secret of the project, by name, with its state, error code and stored value:
    all a job needs of them (the names, those purged, the values still to set) in one query."""
    stmt = (
        select(
            ProjectSecret.name,
            ProjectSecret.state,
            ProjectSecret.error_code,
            ProjectSecret.ciphertext,
        )
        .where(ProjectSecret.project_id == project_id)
        .order_by(ProjectSecret.name)
    )
    return [SecretRow(*row) for row in await session.execute(stmt)]


def pending_values(secrets: Iterable[SecretRow]) -> dict[str, bytes]:
    """Ciphertexts of the secrets GitHub does not have yet (``pending`` or ``failed``)."""
    return {
        s.name: s.ciphertext
        for s in secrets
        if s.state != SecretState.SET and s.ciphertext is not None
    }


def purged_names(secrets: Iterable[SecretRow]) -> list[str]:
    """The secrets whose values were purged (they can never be set now)."""
    return [
        s.name
        for s in secrets
        if s.error_code == SECRET_PURGED and s.ciphertext is None and s.state != SecretState.SET
    ]


def _progress_update(project_id: uuid.UUID, generation: int, **values: Any) -> Update:
    """The project's progress columns, only while ``provisioning`` in ``generation``."""
    return (
        update(Project)
        .where(
            Project.id == project_id,
            Project.generation == generation,
            Project.status == ProjectStatus.PROVISIONING,
        )
        .values(updated_at=func.now(), **values)
        .execution_options(synchronize_session=False)
    )


def _events(
    kind: str,
    data: Mapping[str, Any],
    *,
    project_id: SQLColumnExpression[Any],
    generation: SQLColumnExpression[Any],
    attempt: SQLColumnExpression[Any],
    where: ColumnElement[bool] | None = None,
) -> Insert:
    """An ``INSERT … SELECT`` of event ``kind``, one per row the columns come from (none: no
    event), in the project's generation and attempt as that row has them."""
    rows = select(project_id, literal(kind), generation, attempt, literal(dict(data), JSONB))
    if where is not None:
        rows = rows.where(where)
    columns = ["project_id", "kind", "generation", "attempt", "data"]
    return insert(ProjectEvent).from_select(columns, rows)


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
    """The repository exists (we created or adopted it); event ``repo_created``/``repo_adopted``
    (none when the guard kept the row as it was)."""
    saved = (
        _progress_update(
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
        .returning(Project.id, Project.generation, Project.attempts)
        .cte("saved")
    )
    event = _events(
        "repo_created" if created else "repo_adopted",
        {"repo_full_name": full_name, "github_id": github_id},
        project_id=saved.c.id,
        generation=saved.c.generation,
        attempt=saved.c.attempts,
    )
    await session.execute(event.add_cte(saved))


async def record_create_sent(
    session: AsyncSession, project_id: uuid.UUID, generation: int, *, sent_at: datetime
) -> None:
    """A create request goes out at ``sent_at`` (event ``create_sent``, unless the project
    is gone or in another generation): a repository GitHub made from it shortly after may
    be adopted by a later attempt."""
    await session.execute(
        _events(
            "create_sent",
            {"sent_at": sent_at.isoformat()},
            project_id=Project.id,
            generation=Project.generation,
            attempt=Project.attempts,
            where=(Project.id == project_id) & (Project.generation == generation),
        )
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
    await session.execute(
        _progress_update(project_id, generation, project_file_sha=sha, project_file_digest=digest)
    )


async def record_actions_key(
    session: AsyncSession, project_id: uuid.UUID, generation: int, *, key_id: str, key: str
) -> None:
    """The repository's (public) key for sealing secrets, so a resumed job needs no GET."""
    await session.execute(
        _progress_update(project_id, generation, actions_key_id=key_id, actions_public_key=key)
    )


async def record_secrets_set(
    session: AsyncSession, project_id: uuid.UUID, names: Collection[str]
) -> None:
    """GitHub has secrets ``names``: state ``set``, their values wiped at once."""
    stmt = (
        update(ProjectSecret)
        .where(ProjectSecret.project_id == project_id, ProjectSecret.name.in_(sorted(names)))
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

"""The API's request and response models. Input models refuse unknown fields."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from shared.projects.models import (
    Project,
    ProjectEvent,
    ProjectSetting,
    ProjectStatus,
    SecretState,
    SettingState,
    SyncState,
)
from shared.provisioning.settings.entries import desired_settings
from shared.provisioning.settings.spec import RepositorySettings

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "EventOut",
    "EventPage",
    "LastError",
    "ProjectCreate",
    "ProjectOut",
    "ProjectPage",
    "RepoInfo",
    "RepoTokenOut",
    "SecretOut",
    "SettingOut",
    "SyncOut",
    "Waiting",
]

MAX_NAME_LENGTH = 200
"""Display names longer than this are refused before the repository-name rule runs."""
MAX_DESCRIPTION_LENGTH = 2000


class ProjectCreate(BaseModel):
    """``POST /api/projects/``. Secrets may also come as ``config.secrets`` (older clients)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=MAX_NAME_LENGTH,
        description="Display name; the repository name is derived from it.",
        examples=["Тестовый бот"],
    )
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)
    config: dict[str, Any] | None = Field(
        default=None, description="Free-form settings written to `.project.yaml`."
    )
    secrets: dict[str, SecretStr] | None = Field(
        default=None,
        description="Actions secrets, `{NAME: value}`; stored encrypted, never returned.",
    )
    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: sending the same body again is a no-op."
    )
    repository: RepositorySettings | None = Field(
        default=None,
        description="Repository settings (visibility, topics, teams, protection...), each "
        "applied once and shown with its outcome in `settings`.",
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("the name must not be empty or only whitespace")
        return stripped


class RepoInfo(BaseModel):
    """The GitHub repository of a ready project."""

    owner: str
    name: str = Field(description="The repository's actual name, as GitHub answered it.")
    full_name: str
    html_url: str
    clone_url: str
    default_branch: str


class RepoTokenOut(BaseModel):
    """A GitHub installation token that reaches one repository only."""

    token: str = Field(description="Send as `Authorization: Bearer` to GitHub, or in git's URL.")
    expires_at: datetime
    repository: str = Field(description="`owner/name` of the only repository it reaches.")
    permissions: dict[str, str]


class LastError(BaseModel):
    """Why the last attempt failed."""

    code: str
    message: str


class SecretOut(BaseModel):
    """A secret's name and whether GitHub has it; never its value."""

    name: str
    state: SecretState


class Waiting(BaseModel):
    """Why a project's job is paused (not an error), and until when."""

    reason: str = Field(examples=["waiting for GitHub's write budget (per minute) until 12:00:03Z"])
    until: datetime | None


class SettingOut(BaseModel):
    """One repository setting and its outcome, like a secret's."""

    setting: str = Field(examples=["teams.platform"])
    state: SettingState
    code: str | None = Field(default=None, examples=["setting_rejected"])
    message: str | None = Field(default=None, examples=['teams.ghost: no team "ghost" in acme'])

    @classmethod
    def build(cls, key: str, row: ProjectSetting | None) -> SettingOut:
        """The view of setting ``key`` (no row yet: ``pending``)."""
        if row is None:
            return cls(setting=key, state=SettingState.PENDING)
        return cls(setting=key, state=SettingState(row.state), code=row.code, message=row.message)


class SyncOut(BaseModel):
    """Changes asked after creation: ``generation`` counts them; ``state`` says whether
    GitHub has them. The project stays ``ready`` meanwhile."""

    generation: int
    state: SyncState
    last_error: LastError | None = None

    @classmethod
    def build(cls, project: Project) -> SyncOut | None:
        """The view of the project's sync state (``None`` before any change)."""
        if project.sync_state is None:
            return None
        error = (
            LastError(code=project.sync_error_code, message=project.sync_error_message or "")
            if project.sync_error_code
            else None
        )
        return cls(
            generation=project.sync_generation,
            state=SyncState(project.sync_state),
            last_error=error,
        )


class ProjectOut(BaseModel):
    """A project as the API shows it."""

    id: uuid.UUID
    name: str
    description: str | None
    status: ProjectStatus
    repo_name: str = Field(description="The repository name we asked GitHub for.")
    repo_info: RepoInfo | None = Field(description="Set once the project is `ready`.")
    attempts: int
    generation: int
    last_error: LastError | None
    waiting: Waiting | None = Field(
        default=None, description="Set while the job waits, e.g. for GitHub's write budget."
    )
    secrets: list[SecretOut]
    repository: dict[str, Any] = Field(
        default_factory=dict, description="The repository settings asked for."
    )
    settings: list[SettingOut] = Field(
        default_factory=list, description="Each repository setting and its outcome, in order."
    )
    config: dict[str, Any]
    sync: SyncOut | None = Field(
        default=None, description="Set once the project was changed after its creation."
    )
    last_reconciled_at: datetime | None = Field(
        default=None, description="When the repository was last checked for drift."
    )
    created_at: datetime
    updated_at: datetime
    provisioned_at: datetime | None

    @classmethod
    def build(
        cls,
        project: Project,
        secret_states: list[tuple[str, str]],
        setting_rows: Mapping[str, ProjectSetting] | None = None,
    ) -> ProjectOut:
        """The view of ``project`` with its secrets' ``(name, state)`` and settings rows."""
        rows = setting_rows or {}
        return cls(
            id=project.id,
            name=project.name,
            description=project.description,
            status=ProjectStatus(project.status),
            repo_name=project.repo_name,
            repo_info=_repo_info(project),
            attempts=project.attempts,
            generation=project.generation,
            last_error=(
                LastError(code=project.last_error_code, message=project.last_error_message or "")
                if project.last_error_code
                else None
            ),
            waiting=(
                Waiting(reason=project.wait_reason, until=project.next_attempt_at)
                if project.wait_reason and project.status == ProjectStatus.PROVISIONING
                else None
            ),
            secrets=[
                SecretOut(name=name, state=SecretState(state)) for name, state in secret_states
            ],
            repository=project.repository_settings or {},
            settings=[
                SettingOut.build(key, rows.get(key))
                for key in desired_settings(project.repository_settings or {})
            ],
            config=project.config,
            sync=SyncOut.build(project),
            last_reconciled_at=project.last_reconciled_at,
            created_at=project.created_at,
            updated_at=project.updated_at,
            provisioned_at=project.provisioned_at,
        )


def _repo_info(project: Project) -> RepoInfo | None:
    if project.status != ProjectStatus.READY or not project.repo_full_name:
        return None
    owner, _, name = project.repo_full_name.partition("/")
    return RepoInfo(
        owner=project.repo_owner or owner,
        name=name,
        full_name=project.repo_full_name,
        html_url=project.repo_html_url or "",
        clone_url=project.repo_clone_url or "",
        default_branch=project.repo_default_branch or "",
    )


class ProjectPage(BaseModel):
    """Projects newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[ProjectOut]
    next_cursor: str | None


class EventOut(BaseModel):
    """One line of a project's history."""

    id: int
    at: datetime
    kind: str
    generation: int
    attempt: int | None
    data: dict[str, Any]

    @classmethod
    def build(cls, event: ProjectEvent) -> EventOut:
        """The view of ``event``."""
        return cls(
            id=event.id,
            at=event.at,
            kind=event.kind,
            generation=event.generation,
            attempt=event.attempt,
            data=event.data,
        )


class EventPage(BaseModel):
    """Events oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[EventOut]
    next_cursor: str | None

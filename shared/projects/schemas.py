"""The API's request and response models. Input models refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from shared.projects.models import Project, ProjectEvent, ProjectStatus, SecretState

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
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    provisioned_at: datetime | None

    @classmethod
    def build(cls, project: Project, secret_states: list[tuple[str, str]]) -> ProjectOut:
        """The view of ``project`` with its secrets' ``(name, state)``."""
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
            config=project.config,
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

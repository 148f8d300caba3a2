"""What provisioning takes and gives back: plain values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from shared.github.models import RepoFile, Repository
from shared.provisioning.project_file import render_project_file

__all__ = ["EnsuredRepository", "ProjectSpec", "ProvisionResult", "SecretOutcome"]


@dataclass(frozen=True)
class ProjectSpec:
    """What provisioning needs to know about a project (never secret values)."""

    id: UUID
    display_name: str
    repo_name: str
    description: str | None = None
    owner: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    secret_names: Sequence[str] = ()

    def project_file(self) -> bytes:
        """The ``.project.yaml`` this project's repository must hold."""
        return render_project_file(
            project_id=self.id,
            name=self.display_name,
            description=self.description,
            owner=self.owner,
            config=self.config,
            secret_names=self.secret_names,
        )


@dataclass(frozen=True)
class EnsuredRepository:
    """The repository the project now has, and how we got it."""

    repository: Repository
    created: bool
    """True when this call created it (expect GitHub's post-creation 404s)."""
    project_file: RepoFile | None = None
    """``.project.yaml`` as read while adopting; ``None`` when absent or not read."""


@dataclass(frozen=True)
class SecretOutcome:
    """What happened to one secret."""

    state: Literal["set", "failed", "pending"]
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class ProvisionResult:
    """Everything :meth:`Provisioner.provision` did."""

    repository: Repository
    created: bool
    file_committed: bool
    secrets: Mapping[str, SecretOutcome]

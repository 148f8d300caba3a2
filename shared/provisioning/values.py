"""What provisioning takes and gives back: plain values, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal, Protocol
from uuid import UUID

from shared.github.models import ActionsPublicKey, RepoFile, Repository
from shared.provisioning.project_file import render_project_file
from shared.provisioning.settings.entries import DesiredSetting

__all__ = [
    "AppliedSetting",
    "EnsuredRepository",
    "NoProgressKept",
    "Progress",
    "ProgressSink",
    "ProjectSpec",
    "ProvisionResult",
    "SecretOutcome",
    "file_digest",
]


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
    repository: Mapping[str, Any] = field(default_factory=dict)
    """The ``repository`` settings asked for, as stored (recorded in ``.project.yaml``)."""
    settings: Mapping[str, DesiredSetting] = field(default_factory=dict)
    """The same as entries (``desired_settings(repository)``), in the order they apply."""

    def project_file(self) -> bytes:
        """The ``.project.yaml`` this project's repository must hold (rendered once)."""
        return self._project_file

    @cached_property
    def _project_file(self) -> bytes:
        return render_project_file(
            project_id=self.id,
            name=self.display_name,
            description=self.description,
            owner=self.owner,
            config=self.config,
            secret_names=self.secret_names,
            repository=self.repository,
        )


@dataclass(frozen=True)
class EnsuredRepository:
    """The repository the project now has, and how we got it."""

    repository: Repository
    created: bool
    """True when this call created it (expect GitHub's post-creation 404s)."""
    project_file: RepoFile | None = None
    """``.project.yaml`` as read while adopting; ``None`` when absent or not read."""
    body_applied: bool = False
    """True when our own create request made it, so the settings it carried are applied."""


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


@dataclass(frozen=True)
class AppliedSetting:
    """What an earlier attempt saved about one setting."""

    digest: str | None
    """The digest of the value applied (``None``: not applied)."""
    github_id: int | None = None


@dataclass(frozen=True)
class Progress:
    """What earlier attempts of this generation finished (read back from the database)."""

    repository: EnsuredRepository | None = None
    project_file_digest: str | None = None
    """SHA-256 (hex) of the ``.project.yaml`` bytes committed last."""
    project_file_sha: str | None = None
    """Blob sha of that file: an update needs it, so a resumed job need not read the file."""
    actions_key: ActionsPublicKey | None = None
    sent_creates: tuple[datetime, ...] = ()
    """When this generation's earlier create requests went out (each may have made it)."""
    settings: Mapping[str, AppliedSetting] = field(default_factory=dict)
    """The repository settings applied so far, by key."""


class ProgressSink(Protocol):
    """Where each step's outcome is saved the moment it happens."""

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        """The repository exists: created by this generation or adopted."""

    async def create_sending(self, sent_at: datetime) -> None:
        """A create request goes out at ``sent_at``: saved (durably) before it is sent,
        since whatever it makes may be ours even if its answer is never recorded."""

    async def project_file_committed(self, sha: str, digest: str) -> None:
        """``.project.yaml`` holds the bytes with SHA-256 ``digest`` (blob ``sha``)."""

    async def actions_key_fetched(self, key: ActionsPublicKey) -> None:
        """The repository's key for sealing secrets was read."""

    async def secret_set(self, name: str) -> None:
        """GitHub has secret ``name``."""

    async def settings_reset(self) -> None:
        """A new repository was made: no setting is applied on it yet."""

    async def setting_applied(self, key: str, digest: str, github_id: int | None) -> None:
        """GitHub has setting ``key`` as asked (value digest ``digest``)."""

    async def setting_failed(self, key: str, code: str, message: str) -> None:
        """GitHub refused setting ``key`` for good."""


class NoProgressKept:
    """A :class:`ProgressSink` that keeps nothing (one-shot use, benchmarks, tests)."""

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        """Nothing kept."""

    async def create_sending(self, sent_at: datetime) -> None:
        """Nothing kept."""

    async def project_file_committed(self, sha: str, digest: str) -> None:
        """Nothing kept."""

    async def actions_key_fetched(self, key: ActionsPublicKey) -> None:
        """Nothing kept."""

    async def secret_set(self, name: str) -> None:
        """Nothing kept."""

    async def settings_reset(self) -> None:
        """Nothing kept."""

    async def setting_applied(self, key: str, digest: str, github_id: int | None) -> None:
        """Nothing kept."""

    async def setting_failed(self, key: str, code: str, message: str) -> None:
        """Nothing kept."""


def file_digest(content: bytes) -> str:
    """The SHA-256 (hex) that identifies a committed ``.project.yaml``."""
    return hashlib.sha256(content).hexdigest()

"""The sandbox's GitHub objects: accounts, installations, repositories, commits, requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Account",
    "Commit",
    "Installation",
    "IssuedToken",
    "RequestRecord",
    "SandboxRepository",
    "SecretRecord",
]


@dataclass
class Account:
    """A GitHub user or organization."""

    id: int
    login: str
    type: str = "Organization"


@dataclass
class Installation:
    """The App installed on ``account`` with ``permissions`` (name → read/write/admin)."""

    id: int
    account: Account
    permissions: dict[str, str]
    created_at: float


@dataclass
class Commit:
    """One commit made by a contents PUT (or ``auto_init``): one file changed."""

    sha: str
    path: str
    message: str
    content_sha: str
    content: bytes
    author: dict[str, str]
    time: float
    parent: str | None


@dataclass
class SecretRecord:
    """An Actions secret; the sandbox keeps the decrypted value for tests."""

    value: str
    created_at: float
    updated_at: float


@dataclass
class SandboxRepository:
    """A repository with its current files, commit history and Actions secrets.

    ``files`` maps path → current content, ``secrets`` NAME → decrypted value.
    """

    id: int
    owner: Account
    name: str
    private: bool
    description: str | None
    created_at: float
    public_key_id: str
    secret_key: bytes = field(repr=False)
    default_branch: str = "main"
    created_by_api: bool = False
    updated_at: float = 0.0
    pushed_at: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[Commit] = field(default_factory=list)
    secret_records: dict[str, SecretRecord] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner.login}/{self.name}"

    @property
    def secrets(self) -> dict[str, str]:
        """Actions secrets, NAME → decrypted value."""
        return {name: rec.value for name, rec in self.secret_records.items()}

    @property
    def head(self) -> str | None:
        """The sha of the default branch's last commit (None while empty)."""
        return self.commits[-1].sha if self.commits else None


@dataclass(frozen=True)
class IssuedToken:
    """What the sandbox keeps of an installation token: enough to verify it, not the token."""

    installation_id: int
    expires_at: float
    permissions: dict[str, str]
    repository_ids: frozenset[int] | None


@dataclass(frozen=True)
class RequestRecord:
    """One request received and how it was answered.

    ``auth`` is ``"jwt"``, ``"installation"``, ``"none"`` or ``"invalid"``.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int
    auth: str
    installation_id: int | None
    time: float

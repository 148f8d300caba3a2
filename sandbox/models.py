"""The sandbox's GitHub objects: accounts, installations, repositories, commits, requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Account",
    "Collaborator",
    "Commit",
    "Environment",
    "Installation",
    "Invitation",
    "IssuedToken",
    "Organization",
    "PropertyDefinition",
    "PropertyValue",
    "RequestRecord",
    "Ruleset",
    "SandboxRepository",
    "SecretRecord",
    "Team",
    "VariableRecord",
]

PropertyValue = str | list[str]
"""A custom property's value: a string, or a list of strings for ``multi_select``."""


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
class Team:
    """An organization's team; repositories it can reach are kept on each repository."""

    id: int
    slug: str
    name: str
    description: str | None
    privacy: str
    created_at: float


@dataclass
class PropertyDefinition:
    """One custom property of an organization's schema.

    ``value_type``: ``string``, ``single_select``, ``multi_select``, ``true_false`` or
    ``url``; ``allowed_values`` for the two selects.
    """

    name: str
    value_type: str = "string"
    required: bool = False
    default_value: PropertyValue | None = None
    description: str | None = None
    allowed_values: list[str] | None = None
    values_editable_by: str = "org_actors"


@dataclass
class Organization:
    """What the sandbox knows of an organization beyond its account.

    ``enterprise``: owned by an enterprise (allows ``internal`` visibility). ``teams`` by
    lower-case slug, ``properties`` (the custom property schema) by lower-case name,
    ``members`` lower-case logins.
    """

    account: Account
    enterprise: bool = False
    teams: dict[str, Team] = field(default_factory=dict)
    properties: dict[str, PropertyDefinition] = field(default_factory=dict)
    members: set[str] = field(default_factory=set)


@dataclass
class Commit:
    """One commit made by a contents PUT or DELETE (or ``auto_init``): one file changed.

    ``deleted``: the commit removed ``path`` (``content`` is then empty).
    """

    sha: str
    path: str
    message: str
    content_sha: str
    content: bytes
    author: dict[str, str]
    time: float
    parent: str | None
    deleted: bool = False


@dataclass
class SecretRecord:
    """An Actions secret; the sandbox keeps the decrypted value for tests."""

    value: str
    created_at: float
    updated_at: float


@dataclass
class VariableRecord:
    """An Actions variable (``name`` as stored: upper case)."""

    name: str
    value: str
    created_at: float
    updated_at: float


@dataclass
class Collaborator:
    """A person with direct access to a repository, at ``role`` (pull ... admin)."""

    account: Account
    role: str


@dataclass
class Invitation:
    """A pending invitation of ``invitee`` to a repository, at ``role`` (pull ... admin)."""

    id: int
    invitee: Account
    inviter: Account
    role: str
    created_at: float


@dataclass
class Ruleset:
    """A repository ruleset; ``conditions``, ``rules`` and ``bypass_actors`` as sent."""

    id: int
    name: str
    target: str
    enforcement: str
    bypass_actors: list[dict[str, Any]]
    conditions: dict[str, Any] | None
    rules: list[dict[str, Any]]
    created_at: float
    updated_at: float


@dataclass
class Environment:
    """A deployment environment: a ``wait_timer`` in minutes (0-43,200), required
    ``reviewers`` as ``(type, id)`` pairs, and the branches it deploys from."""

    id: int
    name: str
    wait_timer: int
    prevent_self_review: bool
    reviewers: list[tuple[str, int]]
    deployment_branch_policy: dict[str, bool] | None
    created_at: float
    updated_at: float


@dataclass
class SandboxRepository:
    """A repository with its files, commit history, Actions secrets and settings.

    ``files`` maps path → current content, ``secrets`` NAME → decrypted value.
    ``settings`` holds the create/PATCH fields that have no attribute of their own.
    ``team_access`` maps team id → role; ``collaborators`` and ``environments`` are
    keyed by lower-case login / name. ``protection``: classic branch protection by
    branch, as sent. A repository generated from ``template`` answers 404 until
    ``content_ready_at``, when ``pending_files`` become its first commits.
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
    archived: bool = False
    internal: bool = False
    topics: list[str] = field(default_factory=list)
    custom_properties: dict[str, PropertyValue] = field(default_factory=dict)
    variables: dict[str, VariableRecord] = field(default_factory=dict)
    team_access: dict[int, str] = field(default_factory=dict)
    collaborators: dict[str, Collaborator] = field(default_factory=dict)
    invitations: dict[int, Invitation] = field(default_factory=dict)
    rulesets: dict[int, Ruleset] = field(default_factory=dict)
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    template: SandboxRepository | None = field(default=None, repr=False)
    content_ready_at: float | None = None
    pending_files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner.login}/{self.name}"

    @property
    def secrets(self) -> dict[str, str]:
        """Actions secrets, NAME → decrypted value."""
        return {name: rec.value for name, rec in self.secret_records.items()}

    @property
    def visibility(self) -> str:
        """``public``, ``private`` or ``internal``."""
        return "internal" if self.internal else "private" if self.private else "public"

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

"""What a handler gets (the request, its caller) and gives back (a reply)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import GitHubError, not_accessible, not_found
from sandbox.faults import Faults
from sandbox.models import Installation, IssuedToken, SandboxRepository
from sandbox.state import SandboxState

__all__ = ["Ctx", "Reply", "has_permission", "unprocessable"]

_LEVELS = {"read": 1, "write": 2, "admin": 3}


def has_permission(granted: dict[str, str], name: str, level: str) -> bool:
    """Whether ``granted`` includes ``name`` at ``level`` or above."""
    return _LEVELS.get(granted.get(name, ""), 0) >= _LEVELS[level]


@dataclass
class Reply:
    """A success answer: status, JSON body (None: no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """One authenticated request as a handler sees it.

    ``api`` is the base URL the request came in on, ``web`` the web base URL;
    ``operation`` the description's operationId, ``headers`` the request headers
    (lower-case names); ``token`` and ``installation`` are set for installation tokens.
    """

    state: SandboxState
    faults: Faults
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    api: str
    web: str
    docs: str
    operation: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    token: IssuedToken | None = None
    installation: Installation | None = None
    rate_key: str = ""

    def json_body(self) -> dict[str, Any]:
        """The JSON object sent (empty when none)."""
        return self.body if isinstance(self.body, dict) else {}

    def require(self, name: str, level: str) -> None:
        """403 unless the token has permission ``name`` at ``level``."""
        if self.token is None or not has_permission(self.token.permissions, name, level):
            raise not_accessible(self.docs)

    def repo(self) -> SandboxRepository:
        """The path's repository, or 404 when it is missing, hidden or just created."""
        repo = self.state.repository(self.params["owner"], self.params["repo"])
        if repo is None or not self.can_see(repo):
            raise not_found(self.docs)
        window = self.faults.post_create_404_s
        if repo.created_by_api and window and self.state.clock() < repo.created_at + window:
            raise not_found(self.docs)
        return repo

    def can_see(self, repo: SandboxRepository) -> bool:
        """Whether the token's installation and repository scope include ``repo``."""
        if self.token is None or self.installation is None:
            return False
        if repo.owner.id != self.installation.account.id:
            return False
        return self.token.repository_ids is None or repo.id in self.token.repository_ids


def unprocessable(message: str, docs: str) -> GitHubError:
    """422 with a plain message."""
    return GitHubError(422, message, documentation_url=docs)

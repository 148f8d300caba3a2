"""What a handler gets (the request, its caller) and gives back (a reply)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.errors import GitHubError, archived_read_only, not_accessible, not_found
from sandbox.faults import Faults
from sandbox.models import Installation, IssuedToken, SandboxRepository
from sandbox.permissions import REQUIRED, accepted_header, missing
from sandbox.permissions import has as has_permission
from sandbox.state import SandboxState

T = TypeVar("T")

__all__ = ["Ctx", "Reply", "has_permission", "unprocessable"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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

    def authorize(self) -> None:
        """403 unless the token has every permission this operation needs."""
        if self.token is None or missing(self.token.permissions, self.operation):
            raise not_accessible(self.docs, accepted_header(REQUIRED.get(self.operation, ())))

    def repo(self) -> SandboxRepository:
        """The path's repository, after GitHub's checks, in order.

        404 when it is missing, hidden from the token, just created or still being
        generated from a template; 403 without the operation's permissions; 403 for a
        write to an archived repository (but unarchiving and deleting it).
        """
        repo = self.state.repository(self.params["owner"], self.params["repo"])
        if repo is None or not self.can_see(repo) or self.settling(repo):
            raise not_found(self.docs)
        self.authorize()
        exempt = self.operation == "repos/delete" or (
            self.operation == "repos/update" and self.json_body().get("archived") is False
        )
        if repo.archived and self.method in _WRITES and not exempt:
            raise archived_read_only(self.docs)
        return repo

    def numbered(self, items: Mapping[int, T], param: str) -> T:
        """The item whose integer id is path parameter ``param``; GitHub's 404 if none."""
        try:
            found = items.get(int(self.params[param]))
        except ValueError:
            found = None
        if found is None:
            raise not_found(self.docs)
        return found

    def settling(self, repo: SandboxRepository) -> bool:
        """Whether ``repo`` still answers 404: just created, or its template content pending."""
        now = self.state.clock()
        if repo.content_ready_at is not None and now < repo.content_ready_at:
            return True
        window = self.faults.post_create_404_s
        return bool(repo.created_by_api and window and now < repo.created_at + window)

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

"""Who is calling and what their role lets them do.

=========  ======================  ==========================
action     allowed roles           projects visible
=========  ======================  ==========================
create     ``user``, ``ops``       (the new one is theirs)
read       every role              ``user``: own; others: all
retry      ``ops``                 all
token      ``user``, ``service``   ``user``: own; ``service``: all
=========  ======================  ==========================

A project another owner has is answered 404, never 403, so its existence is not revealed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from api.errors import ApiError
from shared.db.models import Project, TokenRole

__all__ = ["Action", "Principal", "authorize", "not_authenticated"]


class Action(enum.StrEnum):
    """Something a caller may ask for."""

    CREATE = "create"
    READ = "read"
    RETRY = "retry"
    TOKEN = "mint repository tokens for"


_ALLOWED: dict[Action, frozenset[TokenRole]] = {
    Action.CREATE: frozenset({TokenRole.USER, TokenRole.OPS}),
    Action.READ: frozenset(TokenRole),
    Action.RETRY: frozenset({TokenRole.OPS}),
    Action.TOKEN: frozenset({TokenRole.USER, TokenRole.SERVICE}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: a token's ``role`` and ``subject`` (the owner name of what they create)."""

    role: TokenRole
    subject: str

    @property
    def sees_all(self) -> bool:
        """Whether this caller sees every owner's projects."""
        return self.role in (TokenRole.OPS, TokenRole.SERVICE)

    def owner_filter(self) -> str | None:
        """The owner a listing is limited to, or None for all owners."""
        return None if self.sees_all else self.subject

    def can_see(self, project: Project) -> bool:
        """Whether ``project`` exists as far as this caller is concerned."""
        return self.sees_all or project.owner == self.subject


def authorize(principal: Principal, action: Action) -> None:
    """Raise 403 unless the principal's role may do ``action``."""
    if principal.role not in _ALLOWED[action]:
        raise ApiError(
            403,
            "forbidden",
            f"a {principal.role} token may not {action} projects",
        )


def not_authenticated(detail: str) -> ApiError:
    """A 401 that tells the client to send a bearer token."""
    return ApiError(401, "not_authenticated", detail, headers={"WWW-Authenticate": "Bearer"})

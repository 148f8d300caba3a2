"""Who is calling and what their role lets them do.

=========  ======================  ==========================
action     allowed roles           projects visible
=========  ======================  ==========================
create     ``user``, ``ops``       (the new one is theirs)
read       every role              ``user``: own; others: all
retry      ``ops``                 all
token      ``user``, ``service``   ``user``: own; ``service``: all
operate    ``ops``                 (the fleet: budget, queues)
=========  ======================  ==========================

A ``service`` token limited to owners (``provisioner tokens create --owner O``) sees,
and mints tokens for, only those owners' projects. A project the caller may not see
is answered 404, never 403, so its existence is not revealed.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.auth.models import TokenRole
from shared.errors import RequestRejected
from shared.projects.models import Project

__all__ = [
    "PRINCIPAL_RECHECK_S",
    "PRINCIPAL_TTL_S",
    "UNKNOWN_TTL_S",
    "Action",
    "Principal",
    "PrincipalCache",
    "UnknownTokens",
    "authorize",
    "not_authenticated",
]

PRINCIPAL_TTL_S = 5.0
"""How long a token, once looked up, is trusted without asking the database again
(so a revoked token works for at most this long). Agents long-poll in a loop:
without this, each poll would cost a query. A cached entry never outlives the
token's ``expires_at``."""

PRINCIPAL_RECHECK_S = PRINCIPAL_TTL_S / 2
"""A long poll re-checks its caller this often, trusting only a lookup at most this
old: a token revoked while its poll waits ends the poll within :data:`PRINCIPAL_TTL_S`."""

UNKNOWN_TTL_S = 5.0
"""How long a refused token is refused without asking the database again (so a token
issued right after it was tried works this much later)."""


class Action(enum.StrEnum):
    """Something a caller may ask for."""

    CREATE = "create"
    READ = "read"
    RETRY = "retry"
    CHANGE = "change"
    PURGE = "purge"
    RECONCILE = "reconcile"
    TOKEN = "mint repository tokens for"
    OPERATE = "operate on the fleet's"


_ALLOWED: dict[Action, frozenset[TokenRole]] = {
    Action.CREATE: frozenset({TokenRole.USER, TokenRole.OPS}),
    Action.READ: frozenset(TokenRole),
    Action.RETRY: frozenset({TokenRole.OPS}),
    Action.CHANGE: frozenset({TokenRole.USER, TokenRole.OPS}),
    Action.PURGE: frozenset({TokenRole.OPS}),
    Action.RECONCILE: frozenset({TokenRole.OPS}),
    Action.TOKEN: frozenset({TokenRole.USER, TokenRole.SERVICE}),
    Action.OPERATE: frozenset({TokenRole.OPS}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: a token's ``role`` and ``subject`` (the owner name of what they create).

    ``owners``: the owners a ``service`` token is limited to (``None``: every owner).
    """

    role: TokenRole
    subject: str
    owners: frozenset[str] | None = None

    @property
    def sees_all(self) -> bool:
        """Whether this caller sees every owner's projects."""
        if self.role == TokenRole.SERVICE:
            return self.owners is None
        return self.role == TokenRole.OPS

    def owner_filter(self) -> tuple[str, ...] | None:
        """The owners a listing is limited to, or None for all owners."""
        if self.sees_all:
            return None
        if self.role == TokenRole.SERVICE and self.owners is not None:
            return tuple(sorted(self.owners))
        return (self.subject,)

    def can_see(self, project: Project) -> bool:
        """Whether ``project`` exists as far as this caller is concerned."""
        return self.can_see_owned_by(project.owner)

    def can_see_owned_by(self, owner: str) -> bool:
        """Whether a project of ``owner`` exists as far as this caller is concerned."""
        if self.sees_all:
            return True
        if self.role == TokenRole.SERVICE:
            return self.owners is not None and owner in self.owners
        return owner == self.subject


class PrincipalCache:
    """Recently seen tokens (by hash) and who they are, for :data:`PRINCIPAL_TTL_S`.

    ``clock`` measures the TTL; ``wall_clock`` (epoch seconds) is compared with a
    token's ``expires_at``, which an entry never outlives.
    """

    def __init__(
        self,
        *,
        ttl_s: float = PRINCIPAL_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._wall = wall_clock
        self._entries: dict[str, tuple[float, float, Principal]] = {}
        """token hash → (trusted until, looked up at, principal), in ``clock`` time."""

    def get(self, token_hash: str, *, max_age_s: float | None = None) -> Principal | None:
        """The principal behind ``token_hash`` if it was looked up recently
        (at most ``max_age_s`` ago, when given)."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        now = self._clock()
        if entry[0] <= now:
            del self._entries[token_hash]
            return None
        if max_age_s is not None and now - entry[1] > max_age_s:
            return None
        return entry[2]

    def put(
        self, token_hash: str, principal: Principal, *, expires_at: datetime | None = None
    ) -> None:
        """Remember a successful lookup, until the TTL ends or the token expires."""
        if len(self._entries) >= self._max:
            self._entries.clear()
        now = self._clock()
        ttl = self._ttl
        if expires_at is not None:
            ttl = min(ttl, expires_at.timestamp() - self._wall())
        if ttl <= 0:
            self._entries.pop(token_hash, None)
            return
        self._entries[token_hash] = (now + ttl, now, principal)


class UnknownTokens:
    """Token hashes recently refused, for :data:`UNKNOWN_TTL_S`, at most ``max_entries``.

    A flood of one bad token then costs one query per ``ttl_s``; when full, the
    oldest entry makes room (a flood of distinct bad tokens still costs one query each).
    """

    def __init__(
        self,
        *,
        ttl_s: float = UNKNOWN_TTL_S,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._until: dict[str, float] = {}

    def recently_refused(self, token_hash: str) -> bool:
        """Whether ``token_hash`` was refused less than ``ttl_s`` ago."""
        until = self._until.get(token_hash)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[token_hash]
            return False
        return True

    def refuse(self, token_hash: str) -> None:
        """Remember that ``token_hash`` is unknown (or revoked)."""
        self._until.pop(token_hash, None)
        while len(self._until) >= self._max:
            del self._until[next(iter(self._until))]
        self._until[token_hash] = self._clock() + self._ttl


def authorize(principal: Principal, action: Action) -> None:
    """Raise 403 unless the principal's role may do ``action``."""
    if principal.role not in _ALLOWED[action]:
        raise RequestRejected(
            403,
            "forbidden",
            f"a {principal.role} token may not {action} projects",
        )


def not_authenticated(detail: str) -> RequestRejected:
    """A 401 that tells the client to send a bearer token."""
    return RequestRejected(401, "not_authenticated", detail, headers={"WWW-Authenticate": "Bearer"})

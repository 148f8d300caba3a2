"""The values the budget hands out and reports: grants, permits, waits, pauses, snapshots.

Every time here is Redis's clock (``TIME``), in epoch seconds, unless its name ends in
``_s`` (a duration in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "WRITE_METHODS",
    "BudgetSnapshot",
    "BudgetWait",
    "Granted",
    "Lease",
    "Pause",
    "PauseResult",
    "PauseScope",
    "Permit",
    "PrimaryObservation",
    "WaitReason",
    "WaitUntil",
    "is_write_method",
]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""GitHub counts these as content-creating requests (the write limits apply to them)."""


def is_write_method(method: str) -> bool:
    """Whether an HTTP ``method`` (any case) counts against the write limits."""
    return method.upper() in WRITE_METHODS


class PauseScope(StrEnum):
    """What a fleet pause stops: every request, or content-creating ones only."""

    ALL = "all"
    WRITES = "writes"


class WaitReason(StrEnum):
    """Why the budget could not serve a request within the caller's ``max_wait_s``."""

    WRITES_PER_MINUTE = "writes_per_minute"
    """The short window (``writes_per_minute`` in ``minute_window_s``) is full."""
    WRITES_PER_HOUR = "writes_per_hour"
    """The long window (``writes_per_hour`` in ``hour_window_s``) is full."""
    WRITE_QUEUE = "write_queue"
    """Earlier writers hold every slot up to then (they wait for a window too)."""
    IN_FLIGHT = "in_flight"
    """``max_in_flight`` requests are in flight; the wait given is only a guess."""
    PAUSED = "paused"
    """The fleet is paused (``BudgetWait.detail`` says why)."""


@dataclass(frozen=True, slots=True)
class Granted:
    """A write slot reserved by :meth:`WriteLimiter.reserve_write`.

    ``slot`` is the Redis time the write may start; ``wait_s`` how long after the
    reservation that is (0: start now). Start the request within
    ``BudgetConfig.start_tolerance_s`` of ``slot``, or :meth:`WriteLimiter.cancel` it and
    reserve again. ``id`` names the reservation in Redis.
    """

    id: str
    slot: float
    wait_s: float
    reserved_at: float


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """No slot within the caller's ``max_wait_s``; nothing was reserved.

    ``wait_s``: the earliest a reservation could start, from now (it may be later by
    then, if others reserve first); ``retry_at`` the same as a Redis time;
    ``reason``/``detail`` why.
    """

    wait_s: float
    retry_at: float
    reason: WaitReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Lease:
    """One of the fleet's ``max_in_flight`` slots, held until released or ``expires_at``."""

    id: str
    granted_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Permit:
    """What :meth:`GitHubBudget.acquire` grants: send the request now, then ``release`` it.

    ``id``: the permit's name in Redis (the write log and the in-flight leases);
    ``method``: the HTTP method it was acquired for; ``is_write``: whether it counts
    against the write limits; ``granted_at``: the Redis time it was granted; ``slot``: the
    write's time in the write log (``None`` for reads); ``lease_expires_at``: when its
    in-flight slot lapses if never released (``None`` without a lease, as from
    :class:`NullBudget`); ``waited_s``: seconds ``acquire`` spent waiting.
    """

    id: str
    method: str
    is_write: bool
    granted_at: float
    slot: float | None
    lease_expires_at: float | None
    waited_s: float


class BudgetWait(Exception):
    """The budget cannot serve the request within ``max_wait_s``; nothing is held.

    ``wait_s``: seconds from now after which trying again can succeed (for
    ``in_flight``, a guess); ``retry_at``: the same as a Redis time (epoch seconds);
    ``reason``: a :class:`WaitReason`; ``detail``: the pause's reason when paused.
    A job that gets this should defer itself by about ``wait_s`` rather than sleep.
    """

    def __init__(self, *, wait_s: float, retry_at: float, reason: WaitReason, detail: str = ""):
        self.wait_s = wait_s
        self.retry_at = retry_at
        self.reason = reason
        self.detail = detail
        about = f" ({detail})" if detail else ""
        super().__init__(f"GitHub budget: {reason.value}{about}; retry in {wait_s:.1f} s")


@dataclass(frozen=True, slots=True)
class Pause:
    """A fleet pause: no request in ``scope`` starts before ``until``.

    ``reason``: free text (who paused and why); ``set_at``: when it was set or last
    extended (requests granted before then were already in flight: their rejections are
    echoes of the one that paused the fleet and do not extend it).
    """

    scope: PauseScope
    until: float
    reason: str
    set_at: float

    def remaining_s(self, now: float) -> float:
        """Seconds of pause left at Redis time ``now`` (0 when over)."""
        return max(0.0, self.until - now)


@dataclass(frozen=True, slots=True)
class PauseResult:
    """What a pause request did: ``changed`` (it set or extended the pause), ``echo``
    (it came from a request already in flight when the current pause was set), and the
    pause in force afterwards (``None``: none)."""

    changed: bool
    echo: bool
    pause: Pause | None


@dataclass(frozen=True, slots=True)
class PrimaryObservation:
    """The lowest ``x-ratelimit-remaining`` seen for ``resource`` in its current window."""

    resource: str
    limit: int | None
    remaining: int
    used: int | None
    reset: float
    observed_at: float


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """The fleet's budget at Redis time ``now``, read in one round trip.

    ``writes_last_minute`` / ``writes_last_hour``: writes started in the last
    ``minute_window_s`` / ``hour_window_s``; ``writes_scheduled``: reservations for a
    future slot; ``in_flight``: unexpired leases; ``pauses``: pauses in force;
    ``primary``: the last primary rate-limit observation per tracked resource.
    """

    now: float
    writes_last_minute: int
    writes_last_hour: int
    writes_scheduled: int
    writes_per_minute: int
    writes_per_hour: int
    minute_window_s: float
    hour_window_s: float
    in_flight: int
    max_in_flight: int
    pauses: tuple[Pause, ...]
    primary: tuple[PrimaryObservation, ...]

    def pause_for(self, scope: PauseScope) -> Pause | None:
        """The pause that holds requests of ``scope`` longest (writes honour both scopes)."""
        scopes = {PauseScope.ALL} if scope is PauseScope.ALL else set(PauseScope)
        relevant = [p for p in self.pauses if p.scope in scopes and p.until > self.now]
        return max(relevant, key=lambda p: p.until, default=None)

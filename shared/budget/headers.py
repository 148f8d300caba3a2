"""GitHub's rate-limit headers, read into plain values, and what the fleet must do about them.

Pure functions: no Redis, no clock except the one passed in. :class:`GitHubBudget` uses
them on every answer; they are public so a client can log or test the same decisions.

GitHub's rules (REST docs, "Rate limits"):

* a rate-limited answer is a 403 or a 429; when it has ``retry-after``, wait that many
  seconds; otherwise, when ``x-ratelimit-remaining`` is 0, wait until
  ``x-ratelimit-reset`` (epoch seconds); otherwise wait at least a minute;
* every answer carries the primary limit: ``x-ratelimit-limit``, ``-remaining``,
  ``-used``, ``-reset`` and ``-resource``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from shared.budget.config import BudgetConfig
from shared.budget.models import PauseScope

__all__ = [
    "PauseOrder",
    "RateLimitHeaders",
    "is_rate_limited",
    "lower_headers",
    "parse_rate_limit",
    "pauses_for_answer",
    "retry_after_s",
]


def lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` with lower-case names (``httpx.Headers``, a plain dict, or ``None``)."""
    if headers is None:
        return {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass(frozen=True, slots=True)
class RateLimitHeaders:
    """The primary limit as one answer reported it.

    ``resource``: ``x-ratelimit-resource`` (``core`` when absent); ``remaining``/
    ``reset`` are required, ``limit``/``used`` optional; ``date``: the answer's ``Date``
    header as epoch seconds (GitHub's clock), when present.
    """

    resource: str
    limit: int | None
    remaining: int
    used: int | None
    reset: int
    date: float | None

    def seconds_to_reset(self) -> float | None:
        """Seconds from the answer to the reset by GitHub's own clock (needs ``Date``)."""
        return None if self.date is None else self.reset - self.date


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitHeaders | None:
    """The primary-limit headers of an answer (lower-case names), or ``None`` if absent.

    An answer without a parsable ``x-ratelimit-remaining`` and ``x-ratelimit-reset``
    reports nothing.
    """
    remaining = _int(headers.get("x-ratelimit-remaining"))
    reset = _int(headers.get("x-ratelimit-reset"))
    if remaining is None or reset is None:
        return None
    return RateLimitHeaders(
        resource=(headers.get("x-ratelimit-resource") or "core").strip() or "core",
        limit=_int(headers.get("x-ratelimit-limit")),
        remaining=remaining,
        used=_int(headers.get("x-ratelimit-used")),
        reset=reset,
        date=_http_date(headers.get("date")),
    )


def retry_after_s(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """``retry-after`` in seconds (delta-seconds or an HTTP date), or ``None`` if absent.

    An HTTP date is measured from the answer's ``Date`` header, else from ``now``
    (epoch seconds); an unreadable value counts as absent. Never negative.
    """
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw.strip())
    except ValueError:
        when = _http_date(raw)
        base = _http_date(headers.get("date"))
        if base is None:
            base = now
        if when is None or base is None:
            return None
        seconds = when - base
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def is_rate_limited(status: int | None, headers: Mapping[str, str]) -> bool:
    """Whether an answer is a rate-limit rejection, judged from status and headers alone.

    429 always is; a 403 is when it has ``retry-after`` or ``x-ratelimit-remaining: 0``.
    A 403 secondary limit with neither header is only recognisable from its body: pass
    the client's own verdict as ``rate_limited`` to :meth:`GitHubBudget.release` then.
    """
    if status == 429:
        return True
    if status != 403:
        return False
    return "retry-after" in headers or _int(headers.get("x-ratelimit-remaining")) == 0


@dataclass(frozen=True, slots=True)
class PauseOrder:
    """A fleet pause to request: for ``seconds`` from now, or ``until`` a Redis time.

    ``started_at``: the Redis time the rejected request was granted (0: unknown); a
    rejection of a request that was already in flight when the current pause of its
    scope was set is an echo and is measured from that pause's start instead of now.
    """

    scope: PauseScope
    reason: str
    seconds: float | None = None
    until: float | None = None
    started_at: float = 0.0


def _until_reset(rl: RateLimitHeaders, config: BudgetConfig, reason: str) -> PauseOrder:
    to_reset = rl.seconds_to_reset()
    if to_reset is not None:  # GitHub's clock: immune to skew between it and Redis
        seconds = max(0.0, to_reset) + config.reset_cushion_s
        return PauseOrder(PauseScope.ALL, reason, seconds=seconds)
    return PauseOrder(PauseScope.ALL, reason, until=rl.reset + config.reset_cushion_s)


def pauses_for_answer(
    *,
    method: str,
    is_write: bool,
    status: int | None,
    headers: Mapping[str, str],
    config: BudgetConfig,
    rate_limited: bool | None = None,
    started_at: float = 0.0,
) -> list[PauseOrder]:
    """The fleet pauses one answer calls for (usually none).

    ``method``/``is_write``: the request; ``status``/``headers`` (lower-case names): its
    answer (``None``/empty when there was none); ``rate_limited``: the client's own
    verdict (``None``: judge from status and headers, see :func:`is_rate_limited`);
    ``started_at``: the Redis time the request was granted.

    * A rate-limit answer with ``retry-after`` pauses for that long: every write when the
      request was a write, everything when it was a read or the primary limit is spent.
    * Without ``retry-after``, a spent primary limit (``remaining`` 0) pauses everything
      until ``x-ratelimit-reset``; otherwise (a secondary limit) the pause is
      ``secondary_pause_s``.
    * Whatever the status, ``remaining`` below ``primary_floor`` pauses everything until
      the reset. Only ``tracked_resources`` count: a spent ``search`` limit is the
      caller's business, not a reason to stop the fleet's REST calls.
    """
    rl = parse_rate_limit(headers)
    tracked = rl is None or rl.resource in config.tracked_resources
    floor_hit = rl is not None and tracked and rl.remaining < config.primary_floor
    primary_spent = rl is not None and rl.remaining == 0
    limited = is_rate_limited(status, headers) if rate_limited is None else rate_limited
    orders: list[PauseOrder] = []
    if limited and tracked:
        wait = retry_after_s(headers)
        where = f"{status} on {method.upper()}"
        if wait is not None:
            scope = PauseScope.WRITES if is_write and not primary_spent else PauseScope.ALL
            kind = "primary_limit" if primary_spent else "secondary_limit"
            reason = f"{kind}: {where}, retry-after {wait:g} s"
            orders.append(PauseOrder(scope, reason, seconds=wait, started_at=started_at))
        elif primary_spent and rl is not None:
            if not floor_hit:  # with a floor above 0 the floor's pause below is this one
                orders.append(_until_reset(rl, config, f"primary_limit: {where}, spent"))
        else:
            scope = PauseScope.WRITES if is_write else PauseScope.ALL
            reason = f"secondary_limit: {where}, no retry-after"
            seconds = config.secondary_pause_s
            orders.append(PauseOrder(scope, reason, seconds=seconds, started_at=started_at))
    if floor_hit and rl is not None:
        reason = f"primary_floor: {rl.resource} remaining {rl.remaining} < {config.primary_floor}"
        orders.append(_until_reset(rl, config, reason))
    return orders

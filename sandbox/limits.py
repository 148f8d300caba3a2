"""GitHub's limits as the pipeline applies them: concurrency, primary hour, secondary writes.

Order for an authenticated request: the concurrency cap (``max_concurrent_requests``),
then the primary hour window, then, for content-creating requests of an installation
(POST, PUT, PATCH, DELETE), the sliding minute and hour windows. A request is counted
at arrival and only when admitted: a rejected one uses no slot of any window.
"""

from __future__ import annotations

import math

from sandbox.errors import GitHubError
from sandbox.faults import Faults
from sandbox.ratelimit import FlightTracker, PrimaryLimiter, RateWindow, SlidingWindow
from sandbox.stats import LimitStats

__all__ = ["RATE_DOCS", "WRITE_METHODS", "LimitGate", "secondary_limit_error"]

RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {}."
)


def secondary_limit_error(request_id: str, retry_after_s: float | None) -> GitHubError:
    """GitHub's 403 for a secondary limit, with ``retry-after`` (whole seconds, >= 1)."""
    headers = {}
    if retry_after_s is not None:
        headers["retry-after"] = str(max(math.ceil(retry_after_s), 1))
    return GitHubError(
        403,
        _SECONDARY.format(request_id),
        documentation_url=RATE_DOCS + "#about-secondary-rate-limits",
        headers=headers,
    )


class LimitGate:
    """Admits or rejects requests by key (``installation:<id>`` or ``app:<id>``)."""

    def __init__(self, primary: PrimaryLimiter) -> None:
        self.primary = primary
        self.minute = SlidingWindow(60)
        self.hour = SlidingWindow(3600)
        self.flights = FlightTracker()
        self.stats = LimitStats()

    def board(self, key: str, faults: Faults, request_id: str) -> None:
        """Count a request in flight, or raise the secondary 403 when the cap is reached."""
        cap = faults.max_concurrent_requests
        if cap is not None and self.flights.current(key) >= cap:
            self.stats.secondary_rejections["concurrency"] += 1
            raise secondary_limit_error(request_id, None)
        self.flights.enter(key)
        self.stats.max_concurrency = max(self.stats.max_concurrency, self.flights.current(key))

    def land(self, key: str) -> None:
        """A request counted by :meth:`board` has been answered."""
        self.flights.leave(key)

    def admit(
        self,
        key: str,
        *,
        who: str,
        write: bool,
        now: float,
        faults: Faults,
        request_id: str,
    ) -> RateWindow:
        """Count one request against the primary window and, for a write, the secondary ones.

        Returns the primary window (for the ``x-ratelimit-*`` headers); raises GitHub's
        403 when a limit is exhausted.
        """
        allowed, window = self.primary.hit(key, now)
        if not allowed:
            self.stats.primary_rejections += 1
            raise GitHubError(
                403,
                f"API rate limit exceeded for {who}.",
                documentation_url=RATE_DOCS,
            )
        if not write:
            return window
        waits = {}
        if faults.secondary_limit_per_minute is not None:
            waits["per_minute"] = self.minute.wait(key, now, faults.secondary_limit_per_minute)
        if faults.secondary_limit_per_hour is not None:
            waits["per_hour"] = self.hour.wait(key, now, faults.secondary_limit_per_hour)
        exceeded = {kind: wait for kind, wait in waits.items() if wait is not None}
        if exceeded:
            kind = max(exceeded, key=lambda k: exceeded[k])
            self.stats.secondary_rejections[kind] += 1
            raise secondary_limit_error(request_id, exceeded[kind])
        self.minute.add(key, now)
        self.hour.add(key, now)
        self.stats.writes_accepted += 1
        self.stats.write_times.append(now)
        return window

    def reset_stats(self) -> None:
        """Start the counters again (the windows themselves are kept)."""
        self.stats = LimitStats()

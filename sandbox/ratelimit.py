"""Primary (per hour) and secondary (content-creating, per minute) rate limits."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["PrimaryLimiter", "RateWindow", "SecondaryLimiter"]

HOUR_S = 3600
MINUTE_S = 60


@dataclass
class RateWindow:
    """One key's hour window: ``used`` of ``limit`` until ``reset`` (epoch seconds)."""

    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        """GitHub's ``x-ratelimit-*`` headers for this window."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-resource": "core",
        }


class PrimaryLimiter:
    """Counts requests per key (installation or App) in fixed one-hour windows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._windows: dict[str, RateWindow] = {}

    def peek(self, key: str, now: float) -> RateWindow:
        """The key's current window, without counting a request."""
        window = self._windows.get(key)
        if window is None or now >= window.reset:
            window = RateWindow(self.limit, 0, int(now) + HOUR_S)
            self._windows[key] = window
        window.limit = self.limit
        return window

    def hit(self, key: str, now: float) -> tuple[bool, RateWindow]:
        """Count one request; False (and nothing counted) when the window is exhausted."""
        window = self.peek(key, now)
        if window.used >= window.limit:
            return False, window
        window.used += 1
        return True, window


class SecondaryLimiter:
    """At most ``per_minute`` content-creating requests per key in any 60 s."""

    def __init__(self) -> None:
        self._times: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float, per_minute: int) -> int | None:
        """Count one request; the seconds to wait instead when over the limit."""
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - MINUTE_S:
            times.popleft()
        if len(times) >= per_minute:
            return max(int(times[0] + MINUTE_S - now + 0.999), 1)
        times.append(now)
        return None

"""Rate-limit bookkeeping: the primary hour window, sliding windows, requests in flight."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["FlightTracker", "PrimaryLimiter", "RateWindow", "SlidingWindow"]

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


class SlidingWindow:
    """Times of counted events per key over the last ``length_s`` seconds (half-open)."""

    def __init__(self, length_s: float) -> None:
        self.length_s = length_s
        self._times: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float, limit: int) -> float | None:
        """Seconds until one more event fits under ``limit``; None when it fits now."""
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self.length_s:
            times.popleft()
        if len(times) < limit:
            return None
        # the event that must leave the window before one more fits
        return times[len(times) - limit] + self.length_s - now

    def add(self, key: str, now: float) -> None:
        """Count one event at ``now``."""
        self._times.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        """Forget every event."""
        self._times.clear()


class FlightTracker:
    """Requests in flight per key."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def current(self, key: str) -> int:
        """Requests of ``key`` in flight now."""
        return self._counts.get(key, 0)

    def enter(self, key: str) -> None:
        """One more request of ``key`` in flight."""
        self._counts[key] = self._counts.get(key, 0) + 1

    def leave(self, key: str) -> None:
        """One request of ``key`` answered."""
        left = self._counts.get(key, 0) - 1
        if left > 0:
            self._counts[key] = left
        else:
            self._counts.pop(key, None)

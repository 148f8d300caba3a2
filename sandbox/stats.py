"""What the rate limits saw: accepted writes, rejections, concurrency (for tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["REJECTION_KINDS", "LimitStats", "max_in_window"]

REJECTION_KINDS = ("per_minute", "per_hour", "concurrency")


def max_in_window(times: Sequence[float], seconds: float) -> int:
    """The most of ``times`` (ascending) that fall in any half-open window of ``seconds``."""
    best = start = 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def _no_rejections() -> dict[str, int]:
    return dict.fromkeys(REJECTION_KINDS, 0)


@dataclass
class LimitStats:
    """Counters since the sandbox started or ``reset_stats()``.

    ``writes_accepted``: content-creating requests (POST, PUT, PATCH, DELETE with an
    installation token) that passed every limit; ``write_times`` their arrival times
    (sandbox clock, ascending). ``secondary_rejections``: 403s by kind (``per_minute``,
    ``per_hour``, ``concurrency``). ``primary_rejections``: 403s of an exhausted hour.
    ``max_concurrency``: the most requests of one installation (or the App) in flight.
    """

    writes_accepted: int = 0
    write_times: list[float] = field(default_factory=list)
    secondary_rejections: dict[str, int] = field(default_factory=_no_rejections)
    primary_rejections: int = 0
    max_concurrency: int = 0

    def max_writes_in(self, seconds: float) -> int:
        """The most accepted writes in any window of ``seconds`` (60: per minute)."""
        return max_in_window(self.write_times, seconds)

    def copy(self) -> LimitStats:
        """An independent snapshot."""
        return LimitStats(
            self.writes_accepted,
            list(self.write_times),
            dict(self.secondary_rejections),
            self.primary_rejections,
            self.max_concurrency,
        )

    def as_json(self) -> dict[str, Any]:
        """The counters as JSON (``GET /_sandbox/stats``), with the per-window maxima."""
        return {
            "writes_accepted": self.writes_accepted,
            "write_times": list(self.write_times),
            "max_writes_per_minute": self.max_writes_in(60),
            "max_writes_per_hour": self.max_writes_in(3600),
            "secondary_rejections": dict(self.secondary_rejections),
            "primary_rejections": self.primary_rejections,
            "max_concurrency": self.max_concurrency,
        }

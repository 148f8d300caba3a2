"""Snapshot → numbers for gauges (Prometheus or anything with ``set``), no import of a
metrics library here: the caller owns its registry.

::

    from prometheus_client import Gauge
    gauges = {name: Gauge(name, help) for name, help in METRICS.items()}
    feed_gauges(await budget.snapshot(), gauges)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from shared.budget.models import BudgetSnapshot, PauseScope

__all__ = ["METRICS", "SupportsSet", "feed_gauges", "metric_values"]

METRICS: dict[str, str] = {
    "github_budget_writes_last_minute": "Writes started in the last minute window, fleet-wide.",
    "github_budget_writes_last_hour": "Writes started in the last hour window, fleet-wide.",
    "github_budget_writes_scheduled": "Writes holding a future slot.",
    "github_budget_writes_per_minute_limit": "The minute window's write limit.",
    "github_budget_writes_per_hour_limit": "The hour window's write limit.",
    "github_budget_in_flight": "GitHub requests in flight, fleet-wide (unexpired leases).",
    "github_budget_max_in_flight": "The in-flight limit.",
    "github_budget_pause_all_seconds": "Seconds left of a pause of every request (0: none).",
    "github_budget_pause_writes_seconds": "Seconds left of a pause that stops writes (0: none).",
    "github_budget_primary_remaining": "Lowest x-ratelimit-remaining seen for core (-1: none).",
}
"""Every metric :func:`metric_values` produces, with its help text."""


class SupportsSet(Protocol):
    """A gauge: ``prometheus_client.Gauge`` (unlabelled, or ``.labels(...)``) fits."""

    def set(self, value: float) -> None:
        """Set the gauge to ``value``."""


def metric_values(snapshot: BudgetSnapshot) -> dict[str, float]:
    """The :data:`METRICS` of one snapshot, by name."""
    write_pause = snapshot.pause_for(PauseScope.WRITES)
    all_pause = snapshot.pause_for(PauseScope.ALL)
    core = next((p for p in snapshot.primary if p.resource == "core"), None)
    all_left = all_pause.remaining_s(snapshot.now) if all_pause else 0.0
    writes_left = write_pause.remaining_s(snapshot.now) if write_pause else 0.0
    return {
        "github_budget_writes_last_minute": float(snapshot.writes_last_minute),
        "github_budget_writes_last_hour": float(snapshot.writes_last_hour),
        "github_budget_writes_scheduled": float(snapshot.writes_scheduled),
        "github_budget_writes_per_minute_limit": float(snapshot.writes_per_minute),
        "github_budget_writes_per_hour_limit": float(snapshot.writes_per_hour),
        "github_budget_in_flight": float(snapshot.in_flight),
        "github_budget_max_in_flight": float(snapshot.max_in_flight),
        "github_budget_pause_all_seconds": all_left,
        "github_budget_pause_writes_seconds": writes_left,
        "github_budget_primary_remaining": float(core.remaining) if core else -1.0,
    }


def feed_gauges(snapshot: BudgetSnapshot, gauges: Mapping[str, SupportsSet]) -> None:
    """Set each gauge in ``gauges`` (keyed by :data:`METRICS` name) from ``snapshot``;
    names missing from ``gauges`` are skipped."""
    for name, value in metric_values(snapshot).items():
        gauge = gauges.get(name)
        if gauge is not None:
            gauge.set(value)

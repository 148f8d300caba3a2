"""Small server-rendered SVG charts: geometry computed here, drawn by the templates.

Every chart also has a text alternative (its ``summary`` and each bar's ``label``),
so a screen reader reads the numbers rather than the shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.ops.repository import HourOutcomes

__all__ = ["Bar", "Chart", "hourly_chart", "status_chart"]

_WIDTH = 400
_STATUS_ROW = 28
_HOURLY_HEIGHT = 150
_AXIS = 20
_MARGIN = 18
"""Room left and right of the hourly bars, so the first and last hour labels fit."""


@dataclass(frozen=True)
class Bar:
    """One rectangle: where it is, its CSS class and what it says."""

    x: float
    y: float
    width: float
    height: float
    kind: str
    label: str


@dataclass(frozen=True)
class Tick:
    """A label under (or beside) the bars."""

    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    """Bars and labels in a ``width`` × ``height`` view box."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    summary: str


def status_chart(counts: Mapping[str, int]) -> Chart:
    """One horizontal bar per status, longest for the largest count."""
    top = max(counts.values(), default=0) or 1
    label_w, number_w = 110, 60
    room = _WIDTH - label_w - number_w
    bars, ticks = [], []
    for row, (status, count) in enumerate(counts.items()):
        y = row * _STATUS_ROW + 4
        width = max(2.0, room * count / top) if count else 0.0
        label = f"{status}: {count}"
        bars.append(Bar(label_w, y, width, _STATUS_ROW - 8, f"status-{status}", label))
        ticks.append(Tick(label_w - 8, y + _STATUS_ROW / 2 - 1, status, "end"))
        ticks.append(Tick(label_w + width + 6, y + _STATUS_ROW / 2 - 1, str(count), "start"))
    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    return Chart(
        _WIDTH, _STATUS_ROW * len(counts) + 4, bars, ticks, f"Projects by status: {summary}"
    )


def hourly_chart(hours: Sequence[HourOutcomes]) -> Chart:
    """For each hour, a ``ready`` bar beside a ``failed`` bar, oldest hour on the left."""
    top = max((max(h.ready, h.failed) for h in hours), default=0) or 1
    slot = (_WIDTH - 2 * _MARGIN) / max(1, len(hours))
    bar_w = max(1.0, slot / 2 - 1)
    plot = _HOURLY_HEIGHT - _AXIS
    bars, ticks = [], []
    for i, hour in enumerate(hours):
        x = _MARGIN + i * slot
        when = hour.hour.strftime("%H:00")
        for offset, kind, count in ((0.0, "ready", hour.ready), (bar_w, "failed", hour.failed)):
            height = plot * count / top
            label = f"{when}: {count} {kind}"
            bars.append(Bar(x + offset, plot - height, bar_w, height, kind, label))
        if i % 6 == 0 or i == len(hours) - 1:
            ticks.append(Tick(x + slot / 2, _HOURLY_HEIGHT - 4, when))
    ready = sum(h.ready for h in hours)
    failed = sum(h.failed for h in hours)
    summary = (
        f"Last {len(hours)} hours: {ready} became ready, {failed} failed (most in one hour: {top})"
    )
    return Chart(_WIDTH, _HOURLY_HEIGHT, bars, ticks, summary)

"""The console's charts and durations, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.ops.charts import hourly_chart, status_chart
from api.ops.render import ago
from shared.ops.repository import HourOutcomes


def test_status_bars_are_as_long_as_their_counts() -> None:
    chart = status_chart({"pending_repo": 0, "provisioning": 1, "ready": 4, "repo_failed": 2})

    widths = {bar.kind: bar.width for bar in chart.bars}
    assert widths["status-pending_repo"] == 0
    assert (
        widths["status-ready"]
        == 2 * widths["status-repo_failed"]
        == 4 * widths["status-provisioning"]
    )
    assert (
        chart.summary
        == "Projects by status: 0 pending_repo, 1 provisioning, 4 ready, 2 repo_failed"
    )


def test_hourly_bars_stay_inside_the_chart_and_say_their_numbers() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    hours = [HourOutcomes(start + timedelta(hours=i), i, 24 - i) for i in range(24)]

    chart = hourly_chart(hours)

    assert len(chart.bars) == 48
    assert all(b.x >= 0 and b.x + b.width <= chart.width for b in chart.bars)
    assert all(b.y >= 0 and b.y + b.height <= chart.height for b in chart.bars)
    assert chart.bars[0].label == "00:00: 0 ready" and chart.bars[1].label == "00:00: 24 failed"
    assert "276 became ready, 300 failed" in chart.summary


def test_ago_reads_like_a_person_would_say_it() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)

    said = [ago(now - timedelta(seconds=s), now) for s in (5, 125, 3 * 3600 + 60, 5 * 86400)]

    assert said == ["5 s", "2 min", "3 h 1 min", "5 d"]
    assert ago(None) == "—"

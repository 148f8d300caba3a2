"""The snapshot: what ops see, and the gauges fed from it."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Gauge
from redis.asyncio import Redis

from shared.budget import (
    METRICS,
    GitHubBudget,
    Granted,
    PauseScope,
    feed_gauges,
    metric_values,
)
from tests.budget.conftest import MakeConfig


async def test_snapshot_numbers(redis: Redis, make_config: MakeConfig) -> None:
    config = make_config(
        writes_per_minute=3,
        minute_window_s=1.0,
        writes_per_hour=10,
        hour_window_s=60,
        safety_margin_s=0.05,
        start_tolerance_s=0.02,
        max_in_flight=5,
    )
    budget = GitHubBudget(redis, config)
    empty = await budget.snapshot()
    assert (empty.writes_last_minute, empty.writes_last_hour, empty.in_flight) == (0, 0, 0)
    assert (empty.writes_per_minute, empty.writes_per_hour, empty.max_in_flight) == (3, 10, 5)
    assert (empty.minute_window_s, empty.hour_window_s) == (1.0, 60)
    assert (empty.pauses, empty.primary, empty.writes_scheduled) == ((), (), 0)

    for _ in range(2):
        permit = await budget.acquire("POST", max_wait_s=0)
        await budget.release(permit, None, 201)
    await asyncio.sleep(1.05)  # the scenario: those two leave the short window only
    held = [await budget.acquire(m, max_wait_s=0) for m in ("POST", "PUT", "PATCH", "GET")]
    future = await budget.reserve_write(5)
    assert isinstance(future, Granted) and future.wait_s > 0.5
    await budget.pause(30, "ops: writes off", scope=PauseScope.WRITES)
    await budget.observe({"x-ratelimit-remaining": "4321", "x-ratelimit-reset": "2000000000"})

    snapshot = await budget.snapshot()
    assert snapshot.writes_last_minute == 3
    assert snapshot.writes_last_hour == 5
    assert snapshot.writes_scheduled == 1
    assert snapshot.in_flight == 4
    pause = snapshot.pause_for(PauseScope.WRITES)
    assert pause is not None and pause.reason == "ops: writes off"
    assert snapshot.pause_for(PauseScope.ALL) is None
    assert [(p.resource, p.remaining, p.reset) for p in snapshot.primary] == [
        ("core", 4321, 2_000_000_000)
    ]

    values = metric_values(snapshot)
    assert set(values) == set(METRICS)
    assert values["github_budget_writes_last_minute"] == 3
    assert values["github_budget_writes_last_hour"] == 5
    assert values["github_budget_writes_scheduled"] == 1
    assert values["github_budget_in_flight"] == 4
    assert values["github_budget_pause_writes_seconds"] == pytest.approx(30, abs=1)
    assert values["github_budget_pause_all_seconds"] == 0
    assert values["github_budget_primary_remaining"] == 4321

    registry = CollectorRegistry()
    gauges = {name: Gauge(name, text, registry=registry) for name, text in METRICS.items()}
    feed_gauges(snapshot, gauges)
    assert registry.get_sample_value("github_budget_in_flight") == 4
    assert registry.get_sample_value("github_budget_max_in_flight") == 5

    for permit in held:
        await budget.release(permit, None, 200)
    await budget.limiter.cancel(future)
    after = await budget.snapshot()
    assert (after.in_flight, after.writes_scheduled, after.writes_last_minute) == (0, 0, 3)

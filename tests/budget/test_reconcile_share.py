"""Drift checks' lane on real Redis: within its share, and nobody else's business."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from shared.github.errors import WaitForBudget
from shared.github.transport import NoGate
from shared.reconcile_share import ShareGate, in_reconcile_lane, reconcile_lane
from tests.budget.conftest import MakeConfig


async def test_writes_in_the_lane_stop_at_the_share_and_others_do_not(
    redis: Redis, make_config: MakeConfig
) -> None:
    config = make_config(writes_per_minute=80, writes_per_hour=500)
    gate = ShareGate(NoGate(), redis, config, 0.2)  # 16 writes a minute, 100 an hour
    with reconcile_lane():
        assert in_reconcile_lane()
        for _ in range(16):
            await gate.acquire("PATCH", max_wait_s=0)
        with pytest.raises(WaitForBudget) as caught:
            await gate.acquire("PUT", max_wait_s=0)
    assert caught.value.reason == "reconcile_share"
    assert caught.value.wait_s > 50  # the minute's window must move on first
    assert not in_reconcile_lane()
    for _ in range(50):  # outside the lane: only the fleet's gate counts
        await gate.acquire("PUT", max_wait_s=0)


async def test_requests_of_any_kind_count_against_the_lanes_request_share(
    redis: Redis, make_config: MakeConfig
) -> None:
    gate = ShareGate(NoGate(), redis, make_config(), 0.01)  # 1% of 5000/h: 50/h, 3 a minute
    with reconcile_lane():
        for _ in range(3):
            await gate.acquire("GET", max_wait_s=0)
        with pytest.raises(WaitForBudget):
            await gate.acquire("GET", max_wait_s=0)

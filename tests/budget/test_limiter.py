"""The write limiter: burst, sliding windows, future slots in arrival order, several
processes hammering it at once."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from shared.budget import (
    BudgetConfig,
    BudgetWait,
    GitHubBudget,
    Granted,
    WaitReason,
    WaitUntil,
    WriteLimiter,
)
from tests.budget.conftest import MakeConfig
from tests.budget.fleet import hammer, max_in_window, max_overlap, redis_time, spawn


async def test_idle_limiter_grants_a_whole_burst_at_once(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(writes_per_minute=80, max_in_flight=100))
    permits = await asyncio.gather(*(budget.acquire("POST", max_wait_s=0) for _ in range(80)))
    assert all(p.slot == p.granted_at for p in permits)
    assert max(p.waited_s for p in permits) < 1.0
    assert max(p.granted_at for p in permits) - min(p.granted_at for p in permits) < 1.0
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("PUT", max_wait_s=0)
    assert waited.value.reason is WaitReason.WRITES_PER_MINUTE
    first = min(p.granted_at for p in permits)
    expected = first + 60 + budget.config.safety_margin_s
    assert waited.value.retry_at == pytest.approx(expected, abs=0.01)
    assert (await budget.snapshot()).writes_last_minute == 80


async def test_next_slot_is_one_window_and_margin_after_the_limit_th_newest(
    redis: Redis, make_config: MakeConfig
) -> None:
    config = make_config(
        writes_per_minute=3, minute_window_s=0.4, safety_margin_s=0.05, start_tolerance_s=0.02
    )
    limiter = WriteLimiter(redis, config)
    first = [await limiter.reserve_write(0) for _ in range(3)]
    assert all(isinstance(g, Granted) and g.wait_s == 0 for g in first)
    queued = [await limiter.reserve_write(5) for _ in range(4)]
    assert all(isinstance(g, Granted) for g in queued)
    slots = [g.slot for g in first + queued if isinstance(g, Granted)]
    assert slots == sorted(slots)  # first come, first served
    assert slots[3] == pytest.approx(slots[0] + 0.45, abs=1e-5)
    assert slots[4] == pytest.approx(slots[1] + 0.45, abs=1e-5)
    assert slots[6] == pytest.approx(slots[3] + 0.45, abs=1e-5)
    assert max_in_window(slots, 0.4) == 3


async def test_hour_window_binds_after_the_minute_windows(
    redis: Redis, make_config: MakeConfig
) -> None:
    config = make_config(
        writes_per_minute=3,
        minute_window_s=0.2,
        writes_per_hour=5,
        hour_window_s=60,
        safety_margin_s=0.05,
        start_tolerance_s=0.02,
    )
    limiter = WriteLimiter(redis, config)
    granted = [await limiter.reserve_write(1) for _ in range(5)]
    assert all(isinstance(g, Granted) for g in granted)
    refused = await limiter.reserve_write(30)
    assert isinstance(refused, WaitUntil)
    assert refused.reason is WaitReason.WRITES_PER_HOUR
    first = granted[0]
    assert isinstance(first, Granted)
    assert refused.retry_at == pytest.approx(first.slot + 60.05, abs=1e-4)
    assert (await GitHubBudget(redis, config).snapshot()).writes_scheduled == 2


async def test_wait_beyond_max_wait_reserves_nothing(redis: Redis, make_config: MakeConfig) -> None:
    limiter = WriteLimiter(redis, make_config(writes_per_minute=1))
    assert isinstance(await limiter.reserve_write(0), Granted)
    for _ in range(5):
        refused = await limiter.reserve_write(10)
        assert isinstance(refused, WaitUntil)
        assert refused.wait_s == pytest.approx(62, abs=0.1)  # the same slot, again and again
    snapshot = await GitHubBudget(redis, limiter.config).snapshot()
    assert (snapshot.writes_last_minute, snapshot.writes_scheduled) == (1, 0)


async def test_a_cancelled_future_slot_goes_to_the_next_writer(
    redis: Redis, make_config: MakeConfig
) -> None:
    limiter = WriteLimiter(redis, make_config(writes_per_minute=1))
    assert isinstance(await limiter.reserve_write(0), Granted)
    future = await limiter.reserve_write(70)
    assert isinstance(future, Granted) and future.wait_s > 60
    assert await limiter.cancel(future)
    again = await limiter.reserve_write(70)
    assert isinstance(again, Granted)
    assert again.slot == pytest.approx(future.slot, abs=1e-6)  # not one window later


async def test_a_write_that_starts_late_is_restamped(redis: Redis, make_config: MakeConfig) -> None:
    """Waiting for an in-flight slot past ``start_tolerance_s`` moves the write's entry to
    the time it really starts."""
    config = make_config(max_in_flight=1, safety_margin_s=0.2, start_tolerance_s=0.05)
    budget = GitHubBudget(redis, config)
    read = await budget.acquire("GET", max_wait_s=0)
    writer = asyncio.create_task(budget.acquire("POST", max_wait_s=5))
    for _ in range(1000):  # until the writer holds its slot and polls for a lease
        if (await budget.snapshot()).writes_last_minute == 1:
            break
        await asyncio.sleep(0.005)
    ((_, first_slot),) = await redis.zrange(config.keys.writes, 0, 0, withscores=True)
    await asyncio.sleep(0.15)  # the scenario: the writer is kept waiting past its tolerance
    await budget.release(read, None, 200)
    permit = await writer
    assert permit.slot is not None and permit.slot > first_slot + 0.05
    assert permit.granted_at - permit.slot <= config.start_tolerance_s
    assert (await budget.snapshot()).writes_last_minute == 1


@pytest.mark.parametrize(
    ("limits", "run_s", "ideal"),
    [
        # the minute-style window binds: 20 per 1 s, i.e. 100 in 5 s
        ({"writes_per_minute": 20, "minute_window_s": 1.0}, 5.0, 100),
        # both bind: 20 per 1 s, and 50 per 4 s, i.e. 100 in 8 s
        (
            {
                "writes_per_minute": 20,
                "minute_window_s": 1.0,
                "writes_per_hour": 50,
                "hour_window_s": 4.0,
            },
            8.0,
            100,
        ),
    ],
    ids=["minute-binds", "hour-binds"],
)
async def test_processes_hammering_never_exceed_either_window(
    redis: Redis, make_config: MakeConfig, limits: dict[str, float], run_s: float, ideal: int
) -> None:
    """3 processes x 4 tasks, 10 in flight at most, 5 ms per request: no window of either
    length ever holds more than its limit (grant times and log slots, both on Redis's
    clock), in-flight never exceeds its limit, and throughput is >= 90 % of the limit."""
    limits.setdefault("writes_per_hour", 100_000)
    limits.setdefault("hour_window_s", 3600.0)
    config = make_config(**limits, safety_margin_s=0.1, start_tolerance_s=0.05, max_in_flight=10)
    ctx = spawn()
    ready, results = ctx.Queue(), ctx.Queue()
    go, stop_at = ctx.Event(), ctx.Value("d", 0.0)
    procs = [
        ctx.Process(target=hammer, args=(config, 4, 0.005, ready, go, stop_at, results))
        for _ in range(3)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=30)
        start = await redis_time(redis)
        stop_at.value = start + run_s + 0.5
        go.set()
        grants = [g for _ in procs for g in results.get(timeout=run_s + 30)]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    granted = [g for g, _, _ in grants]
    slots = [s for _, s, _ in grants]
    for times in (granted, slots):
        assert max_in_window(times, config.minute_window_s) <= config.writes_per_minute
        assert max_in_window(times, config.hour_window_s) <= config.writes_per_hour
    assert max_overlap([(g, done) for g, _, done in grants]) <= config.max_in_flight
    t0 = min(granted)
    achieved = sum(1 for g in granted if t0 <= g < t0 + run_s)
    assert achieved >= 0.9 * ideal, (achieved, ideal)
    assert max(granted) < stop_at.value


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="writes_per_minute"):
        BudgetConfig(writes_per_minute=0)
    with pytest.raises(ValueError, match="start_tolerance_s"):
        BudgetConfig(safety_margin_s=0.1, start_tolerance_s=0.1)
    with pytest.raises(ValueError, match="minute_window_s"):
        BudgetConfig(minute_window_s=float("nan"))
    scaled = BudgetConfig().scaled(0.01)
    assert (scaled.minute_window_s, scaled.hour_window_s) == pytest.approx((0.6, 36.0))
    assert scaled.writes_per_minute == 80 and scaled.writes_per_hour == 500

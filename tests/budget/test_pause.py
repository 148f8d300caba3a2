"""Fleet pauses: honoured by every process, extended never shortened, one per rejection."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from shared.budget import (
    BudgetWait,
    FleetPause,
    GitHubBudget,
    PauseScope,
    WaitReason,
)
from tests.budget.conftest import MakeConfig
from tests.budget.fleet import redis_time, reject, spawn


async def test_a_pause_is_extended_but_never_shortened(
    redis: Redis, make_config: MakeConfig
) -> None:
    pauses = FleetPause(redis, make_config())
    first = await pauses.pause(60, "first", scope=PauseScope.WRITES)
    assert first.changed and first.pause is not None
    shorter = await pauses.pause(10, "shorter", scope=PauseScope.WRITES)
    assert not shorter.changed
    assert shorter.pause == first.pause
    longer = await pauses.pause(120, "longer", scope=PauseScope.WRITES)
    assert longer.changed and longer.pause is not None
    assert longer.pause.until == pytest.approx(first.pause.until + 60, abs=1)
    assert longer.pause.reason == "longer"
    until = await pauses.pause_until(first.pause.until, "absolute", scope=PauseScope.WRITES)
    assert not until.changed
    current = await pauses.current(PauseScope.WRITES)
    assert current is not None and current.reason == "longer"


async def test_writes_only_pause_lets_reads_through(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config())
    await budget.pause(30, "ops: writes off", scope=PauseScope.WRITES)
    read = await budget.acquire("GET", max_wait_s=0)
    await budget.release(read, None, 200)
    for method in ("POST", "put", "PATCH", "DELETE"):
        with pytest.raises(BudgetWait) as waited:
            await budget.acquire(method, max_wait_s=1)
        assert waited.value.reason is WaitReason.PAUSED
        assert waited.value.detail == "ops: writes off"
        assert waited.value.wait_s == pytest.approx(30, abs=0.5)
    await budget.pause(20, "everything off", scope=PauseScope.ALL)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("GET", max_wait_s=1)
    assert waited.value.detail == "everything off"
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("POST", max_wait_s=1)
    assert waited.value.detail == "ops: writes off"  # the longer of the two
    snapshot = await budget.snapshot()
    assert (snapshot.in_flight, snapshot.writes_scheduled, snapshot.writes_last_minute) == (0, 0, 0)


async def test_a_short_pause_is_waited_out(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config())
    paused = await budget.pause(0.3, "short", scope=PauseScope.ALL)
    assert paused.pause is not None
    write = await budget.acquire("POST", max_wait_s=2)
    read = await budget.acquire("GET", max_wait_s=2)
    assert write.granted_at >= paused.pause.until
    assert read.granted_at >= paused.pause.until
    for permit in (write, read):
        await budget.release(permit, None, 200)


async def test_a_pause_moves_a_reserved_future_write_behind_it(
    redis: Redis, make_config: MakeConfig
) -> None:
    config = make_config(
        writes_per_minute=1, minute_window_s=0.3, safety_margin_s=0.05, start_tolerance_s=0.02
    )
    budget = GitHubBudget(redis, config)
    first = await budget.acquire("POST", max_wait_s=0)
    await budget.release(first, None, 201)
    waiter = asyncio.create_task(budget.acquire("POST", max_wait_s=3))
    for _ in range(1000):
        if (await budget.snapshot()).writes_scheduled == 1:
            break
        await asyncio.sleep(0.005)
    paused = await budget.pause(0.6, "secondary limit", scope=PauseScope.WRITES)
    assert paused.pause is not None
    assert first.granted_at + 0.35 < paused.pause.until  # the reserved slot is inside it
    permit = await waiter
    assert permit.granted_at >= paused.pause.until
    await budget.release(permit, None, 201)


async def test_one_rejection_pauses_every_process(redis: Redis, make_config: MakeConfig) -> None:
    """A child process gets a 403 with ``retry-after``: this process's writes wait, its
    reads do not."""
    config = make_config()
    ctx = spawn()
    granted, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    headers = {"retry-after": "30", "x-ratelimit-remaining": "4000", "x-ratelimit-reset": "1"}
    child = ctx.Process(target=reject, args=(config, "POST", headers, 403, granted, go, done))
    child.start()
    try:
        granted.get(timeout=30)
        go.set()
        released_at = done.get(timeout=30)
    finally:
        child.join(timeout=10)
    assert child.exitcode == 0
    budget = GitHubBudget(redis, config)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("POST", max_wait_s=5)
    assert waited.value.reason is WaitReason.PAUSED
    assert waited.value.detail.startswith("secondary_limit: 403 on POST")
    assert waited.value.retry_at == pytest.approx(released_at + 30, abs=1)
    read = await budget.acquire("GET", max_wait_s=0)
    await budget.release(read, None, 200)


async def test_concurrent_rejections_pause_the_fleet_once(
    redis: Redis, make_config: MakeConfig
) -> None:
    """Four processes hold writes granted before any answer came; the first to be
    rejected pauses the fleet for 60 s; the other three rejections, arriving later, are
    echoes and leave the pause exactly as it was."""
    config = make_config()
    ctx = spawn()
    granted, done = ctx.Queue(), ctx.Queue()
    gos = [ctx.Event() for _ in range(4)]
    headers = {"x-ratelimit-remaining": "4000", "x-ratelimit-reset": "1"}  # no retry-after
    children = [
        ctx.Process(target=reject, args=(config, "POST", headers, 429, granted, go, done))
        for go in gos
    ]
    for child in children:
        child.start()
    pauses = FleetPause(redis, config)
    try:
        for _ in children:
            granted.get(timeout=30)
        gos[0].set()
        done.get(timeout=30)
        first = await pauses.current(PauseScope.WRITES)
        assert first is not None
        assert first.until - first.set_at == pytest.approx(60.0, abs=1e-3)
        for go in gos[1:]:
            go.set()
        later = [done.get(timeout=30) for _ in gos[1:]]
    finally:
        for child in children:
            child.join(timeout=10)
    assert all(t is not None and t > first.set_at for t in later)  # they came after it
    assert await pauses.current(PauseScope.WRITES) == first  # not stacked, not extended


async def test_echo_rules(redis: Redis, make_config: MakeConfig) -> None:
    pauses = FleetPause(redis, make_config())
    now = await redis_time(redis)
    first = await pauses.pause(10, "first", scope=PauseScope.WRITES, started_at=now - 1)
    assert first.pause is not None
    echo = await pauses.pause(10, "echo", scope=PauseScope.WRITES, started_at=now - 0.5)
    assert echo.echo and not echo.changed
    escalated = await pauses.pause(40, "escalated", scope=PauseScope.WRITES, started_at=now)
    assert escalated.echo and escalated.changed and escalated.pause is not None
    assert escalated.pause.until == pytest.approx(first.pause.set_at + 40, abs=1e-3)
    later = await redis_time(redis)
    fresh = await pauses.pause(40, "new rejection", scope=PauseScope.WRITES, started_at=later)
    assert not fresh.echo and fresh.changed and fresh.pause is not None
    assert fresh.pause.until > escalated.pause.until


async def test_pause_is_capped_and_validated(redis: Redis, make_config: MakeConfig) -> None:
    pauses = FleetPause(redis, make_config(max_pause_s=100))
    result = await pauses.pause(10**9, "absurd retry-after")
    assert result.pause is not None
    assert result.pause.until - result.pause.set_at == pytest.approx(100, abs=1e-3)
    with pytest.raises(ValueError, match="seconds"):
        await pauses.pause(float("nan"), "nan")
    nothing = await pauses.pause(0, "zero", scope=PauseScope.WRITES)
    assert not nothing.changed and nothing.pause is None

"""In-flight slots: bounded fleet-wide, released on completion, lapsing after the lease."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from shared.budget import BudgetWait, FleetSemaphore, GitHubBudget, WaitReason
from tests.budget.conftest import MakeConfig
from tests.budget.fleet import hold_lease, redis_time, spawn


async def test_no_more_than_max_in_flight(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config(max_in_flight=3))
    held = [await budget.acquire(m, max_wait_s=0) for m in ("GET", "POST", "GET")]
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("GET", max_wait_s=0.05)
    assert waited.value.reason is WaitReason.IN_FLIGHT
    assert 0 < waited.value.wait_s <= 1.0
    assert (await budget.snapshot()).in_flight == 3
    await budget.release(held[0], None, 200)
    again = await budget.acquire("GET", max_wait_s=0)
    assert (await budget.snapshot()).in_flight == 3
    for permit in [*held[1:], again]:
        await budget.release(permit, None, 200)
    assert (await budget.snapshot()).in_flight == 0


async def test_a_waiter_gets_the_slot_a_release_frees(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(max_in_flight=1))
    held = await budget.acquire("GET", max_wait_s=0)
    waiter = asyncio.create_task(budget.acquire("POST", max_wait_s=10))
    for _ in range(1000):  # until it holds its write slot and polls for an in-flight one
        if (await budget.snapshot()).writes_last_minute == 1:
            break
        await asyncio.sleep(0.005)
    assert not waiter.done()
    await budget.release(held, None, 200)
    permit = await asyncio.wait_for(waiter, timeout=5)
    assert permit.waited_s < 5
    await budget.release(permit, None, 201)


async def test_a_write_that_waits_in_vain_for_a_slot_gives_its_write_back(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(max_in_flight=1))
    held = await budget.acquire("GET", max_wait_s=0)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("POST", max_wait_s=0.1)
    assert waited.value.reason is WaitReason.IN_FLIGHT
    snapshot = await budget.snapshot()
    assert (snapshot.writes_last_minute, snapshot.writes_scheduled, snapshot.in_flight) == (0, 0, 1)
    await budget.release(held, None, 200)


async def test_the_semaphore_alone(redis: Redis, make_config: MakeConfig) -> None:
    semaphore = FleetSemaphore(redis, make_config(max_in_flight=2))
    first, second = await semaphore.acquire(max_wait_s=0), await semaphore.acquire(max_wait_s=0)
    assert await semaphore.try_acquire() is None
    assert await semaphore.in_flight() == 2
    assert await semaphore.release(first)
    assert not await semaphore.release(first)  # released once only
    third = await semaphore.acquire(max_wait_s=1)
    assert third.expires_at == pytest.approx(third.granted_at + 30.0)
    for lease in (second, third):
        await semaphore.release(lease)


async def test_a_killed_holder_s_slot_returns_after_its_lease(
    redis: Redis, make_config: MakeConfig
) -> None:
    """A child process takes the only slot and is SIGKILLed: the slot stays taken until
    the lease runs out, then this process gets it."""
    config = make_config(max_in_flight=1, lease_s=1.5)
    budget = GitHubBudget(redis, config)
    ctx = spawn()
    parent_end, child_end = ctx.Pipe()
    child = ctx.Process(target=hold_lease, args=(config, child_end))
    child.start()
    try:
        assert parent_end.poll(30), "the child never took its slot"
        child_expiry = float(parent_end.recv())
    finally:
        child.kill()
        child.join(timeout=10)
    assert child.exitcode == -9
    if await redis_time(redis) < child_expiry - 0.2:
        with pytest.raises(BudgetWait):
            await budget.acquire("GET", max_wait_s=0)
        assert (await budget.snapshot()).in_flight == 1
    permit = await budget.acquire("GET", max_wait_s=5)
    assert permit.granted_at >= child_expiry
    assert permit.granted_at < child_expiry + 1.0
    await budget.release(permit, None, 200)


async def test_a_release_after_the_lease_ran_out_is_reported(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(lease_s=0.1))
    permit = await budget.acquire("GET", max_wait_s=0)
    assert permit.lease_expires_at is not None
    for _ in range(100):  # the scenario: a request that outlives its lease
        if await redis_time(redis) > permit.lease_expires_at:
            break
        await asyncio.sleep(0.02)
    assert (await budget.snapshot()).in_flight == 0
    with capture_logs() as logs:
        await budget.release(permit, None, 200)
    assert [e["event"] for e in logs] == ["github_budget.lease_expired"]

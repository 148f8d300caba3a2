"""GitHubBudget.acquire/release as the GitHub client uses them, and the null budget."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from structlog.testing import capture_logs

from shared.budget import (
    BudgetHook,
    BudgetWait,
    GitHubBudget,
    NullBudget,
    PauseScope,
    WaitReason,
)
from tests.budget.conftest import MakeConfig


async def test_a_long_wait_raises_and_holds_nothing(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config(writes_per_minute=2))
    for _ in range(2):
        permit = await budget.acquire("POST", max_wait_s=0)
        await budget.release(permit, None, 201)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("POST", max_wait_s=5)
    assert waited.value.reason is WaitReason.WRITES_PER_MINUTE
    assert waited.value.wait_s == pytest.approx(62.0, abs=0.5)
    snapshot = await budget.snapshot()
    assert (snapshot.writes_last_minute, snapshot.writes_scheduled, snapshot.in_flight) == (2, 0, 0)
    read = await budget.acquire("GET", max_wait_s=0)  # reads are not write-limited
    await budget.release(read, None, 200)


async def test_a_short_wait_is_slept_on_a_reserved_slot(
    redis: Redis, make_config: MakeConfig
) -> None:
    config = make_config(
        writes_per_minute=2, minute_window_s=0.3, safety_margin_s=0.05, start_tolerance_s=0.02
    )
    budget = GitHubBudget(redis, config)
    first = [await budget.acquire("POST", max_wait_s=0) for _ in range(2)]
    waiters = [asyncio.create_task(budget.acquire("PATCH", max_wait_s=2)) for _ in range(3)]
    later = await asyncio.gather(*waiters)
    slots = sorted(p.slot for p in later if p.slot is not None)
    assert slots[0] == pytest.approx(first[0].granted_at + 0.35, abs=1e-3)
    assert slots[2] == pytest.approx(slots[0] + 0.35, abs=1e-3)  # the third: one more window
    assert all(0 <= p.granted_at - (p.slot or 0) <= 0.02 for p in later)
    for permit in first + later:
        await budget.release(permit, None, 200)


async def test_cancelling_a_waiting_acquire_gives_its_slot_back(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(writes_per_minute=1))
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, None, 201)
    waiter = asyncio.create_task(budget.acquire("POST", max_wait_s=120))
    for _ in range(1000):
        if (await budget.snapshot()).writes_scheduled == 1:
            break
        await asyncio.sleep(0.005)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (await budget.snapshot()).writes_scheduled == 0


async def test_a_write_that_never_left_is_given_back(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config(writes_per_minute=1))
    permit = await budget.acquire("DELETE", max_wait_s=0)
    await budget.release(permit, None, None, sent=False)
    again = await budget.acquire("DELETE", max_wait_s=0)  # the slot is free again
    await budget.release(again, None, None)  # sent, outcome unknown: it counts
    with pytest.raises(BudgetWait):
        await budget.acquire("DELETE", max_wait_s=0)


async def test_the_client_s_verdict_decides_a_bare_403(
    redis: Redis, make_config: MakeConfig
) -> None:
    """A 403 without rate-limit headers is a permission error unless the client read
    "secondary rate limit" in the body and says so."""
    budget = GitHubBudget(redis, make_config())
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, {"x-ratelimit-remaining": "4000"}, 403)
    assert (await budget.snapshot()).pauses == ()
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, {}, 403, rate_limited=True)
    pause = (await budget.snapshot()).pause_for(PauseScope.WRITES)
    assert pause is not None and pause.scope is PauseScope.WRITES
    assert pause.until - pause.set_at == pytest.approx(60.0, abs=1e-3)


async def test_a_read_s_secondary_limit_pauses_reads_too(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config())
    permit = await budget.acquire("GET", max_wait_s=0)
    await budget.release(permit, {"Retry-After": "12"}, 429)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("GET", max_wait_s=0)
    assert waited.value.wait_s == pytest.approx(12, abs=0.5)
    assert waited.value.detail == "secondary_limit: 429 on GET, retry-after 12 s"


async def test_null_budget_grants_everything() -> None:
    hook: BudgetHook = NullBudget()
    permits = [await hook.acquire("POST", max_wait_s=0) for _ in range(1000)]
    assert all(p.is_write and p.lease_expires_at is None for p in permits)
    await hook.release(permits[0], {"retry-after": "60"}, 429)
    null = NullBudget()
    snapshot = await null.snapshot()
    assert (snapshot.writes_last_minute, snapshot.in_flight, snapshot.pauses) == (0, 0, ())
    assert not (await null.pause(60, "ignored")).changed


def test_github_budget_is_a_budget_hook(redis: Redis, make_config: MakeConfig) -> None:
    hook: BudgetHook = GitHubBudget(redis, make_config())
    assert callable(hook.acquire) and callable(hook.release)


async def test_without_redis_acquire_fails_instead_of_sending_unbudgeted(
    make_config: MakeConfig,
) -> None:
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    try:
        with pytest.raises(RedisError):
            await GitHubBudget(down, make_config()).acquire("POST", max_wait_s=0)
    finally:
        await down.aclose()


async def test_a_lost_state_pauses_writes_for_one_short_window(
    redis: Redis, make_config: MakeConfig, prefix: str
) -> None:
    """The write log vanishes (here: its keys are deleted, as FLUSHDB would): processes
    that knew the old state pause writes once, for ``minute_window_s + safety_margin_s``."""
    config = make_config()
    first, second = GitHubBudget(redis, config), GitHubBudget(redis, config)
    for budget in (first, second):
        await budget.release(await budget.acquire("POST", max_wait_s=0), None, 201)
    assert (await first.snapshot()).pauses == ()  # a fresh budget is not a lost one
    await redis.delete(*[key async for key in redis.scan_iter(match=f"{prefix}*")])

    with capture_logs() as logs, pytest.raises(BudgetWait) as waited:
        await first.acquire("POST", max_wait_s=0)
    assert waited.value.reason is WaitReason.PAUSED
    assert waited.value.detail.startswith("budget_state_lost")
    assert waited.value.wait_s == pytest.approx(62.0, abs=0.5)
    assert "github_budget.state_lost" in [e["event"] for e in logs]
    pause = (await first.snapshot()).pause_for(PauseScope.WRITES)

    with pytest.raises(BudgetWait):
        await second.acquire("POST", max_wait_s=0)  # knew the old state too: no second pause
    assert (await second.snapshot()).pause_for(PauseScope.WRITES) == pause
    newcomer = GitHubBudget(redis, config)
    with pytest.raises(BudgetWait):
        await newcomer.acquire("PUT", max_wait_s=0)
    read = await newcomer.acquire("GET", max_wait_s=0)  # reads go on
    await newcomer.release(read, None, 200)

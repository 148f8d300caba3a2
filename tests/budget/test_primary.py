"""Primary rate limit: every answer is recorded; below the floor the fleet pauses until reset."""

from __future__ import annotations

from email.utils import formatdate

import pytest
from redis.asyncio import Redis

from shared.budget import BudgetWait, GitHubBudget, PauseScope, WaitReason
from tests.budget.conftest import MakeConfig
from tests.budget.fleet import redis_time


def _headers(remaining: int, reset: float, **extra: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Used": str(5000 - remaining),
        "X-RateLimit-Reset": str(int(reset)),
        "X-RateLimit-Resource": "core",
        **extra,
    }


async def test_below_the_floor_everything_waits_until_the_reset(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(reset_cushion_s=0.2))
    reset = int(await redis_time(redis)) + 2
    permit = await budget.acquire("GET", max_wait_s=0)
    await budget.release(permit, _headers(99, reset), 200)
    for method in ("GET", "POST"):
        with pytest.raises(BudgetWait) as waited:
            await budget.acquire(method, max_wait_s=0)
        assert waited.value.reason is WaitReason.PAUSED
        assert waited.value.detail == "primary_floor: core remaining 99 < 100"
        assert waited.value.retry_at == pytest.approx(reset + 0.2, abs=1e-3)
    read = await budget.acquire("GET", max_wait_s=5)
    assert read.granted_at >= reset + 0.2
    await budget.release(read, _headers(5000, reset + 3600), 200)
    write = await budget.acquire("POST", max_wait_s=0)  # the new window's 5000: no pause
    await budget.release(write, None, 201)


async def test_at_or_above_the_floor_nothing_pauses(redis: Redis, make_config: MakeConfig) -> None:
    budget = GitHubBudget(redis, make_config())
    reset = await redis_time(redis) + 600
    await budget.observe(_headers(100, reset))
    await budget.observe({**_headers(3, reset), "X-RateLimit-Resource": "search"})
    assert (await budget.snapshot()).pauses == ()
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, None, 201)


async def test_the_reset_is_measured_on_github_s_clock_when_it_says_the_date(
    redis: Redis, make_config: MakeConfig
) -> None:
    """Answers carry ``Date``: 30 s to the reset by GitHub's clock is a 30 s pause, even if
    the Redis host's clock is a long way off."""
    budget = GitHubBudget(redis, make_config(reset_cushion_s=1.0))
    github_now = 1_700_000_000.0  # years away from Redis's clock
    await budget.observe(_headers(10, github_now + 30, Date=formatdate(github_now, usegmt=True)))
    pause = (await budget.snapshot()).pause_for(PauseScope.ALL)
    assert pause is not None
    assert pause.until - pause.set_at == pytest.approx(31.0, abs=1e-3)


async def test_the_lowest_remaining_of_the_newest_window_is_kept(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config())
    reset = await redis_time(redis) + 600
    for remaining in (4000, 3990, 3995):  # answers arrive out of order
        await budget.observe(_headers(remaining, reset))
    (core,) = (await budget.snapshot()).primary
    assert (core.resource, core.remaining, core.limit, core.used) == ("core", 3990, 5000, 1010)
    await budget.observe(_headers(4999, reset + 3600))  # a new window
    (core,) = (await budget.snapshot()).primary
    assert (core.remaining, core.reset) == (4999, int(reset + 3600))


async def test_a_spent_primary_limit_rejection_pauses_everything_until_reset(
    redis: Redis, make_config: MakeConfig
) -> None:
    budget = GitHubBudget(redis, make_config(primary_floor=0, reset_cushion_s=0.5))
    reset = int(await redis_time(redis)) + 120
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, _headers(0, reset), 403)
    with pytest.raises(BudgetWait) as waited:
        await budget.acquire("GET", max_wait_s=0)
    assert waited.value.detail == "primary_limit: 403 on POST, spent"
    assert waited.value.retry_at == pytest.approx(reset + 0.5, abs=1e-3)

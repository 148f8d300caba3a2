"""Code that runs in child processes (spawn context) for the budget's fleet tests.

Each entry point builds its own event loop and Redis client, talks to Redis db 14 only,
and ends by itself: every loop is bounded in iterations and in Redis time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

from redis.asyncio import Redis

from sandbox.stats import max_in_window as ascending_max_in_window
from shared.budget import BudgetConfig, BudgetWait, GitHubBudget, Permit
from tests.redis_urls import redis_url

REDIS_URL = os.environ.get("BUDGET_TEST_REDIS_URL", redis_url(14))
"""Redis db 14 unless ``BUDGET_TEST_REDIS_URL`` says otherwise (tests may read the
environment; the package never does)."""
MAX_ITERATIONS = 100_000


def spawn() -> SpawnContext:
    """The multiprocessing context every fleet test uses (fresh interpreters)."""
    return multiprocessing.get_context("spawn")


async def redis_time(redis: Redis) -> float:
    """Redis's clock, epoch seconds."""
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1e6


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most of ``times`` (any order) in any half-open interval ``[t, t + window)``."""
    return ascending_max_in_window(sorted(times), window)


def max_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """The most of ``intervals`` (closed) that share one instant."""
    events = [(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals]
    events.sort(key=lambda e: (e[0], -e[1]))  # starts before ends at the same instant
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


# -- hammer: several tasks per process acquire writes until a Redis-time deadline ---------


async def _hammer(
    config: BudgetConfig, stop_at: float, tasks: int, request_s: float
) -> list[tuple[float, float, float]]:
    redis = Redis.from_url(REDIS_URL)
    budget = GitHubBudget(redis, config)
    grants: list[tuple[float, float, float]] = []

    async def one() -> None:
        now = await redis_time(redis)
        for _ in range(MAX_ITERATIONS):
            try:
                permit = await budget.acquire("POST", max_wait_s=max(0.0, stop_at - now))
            except BudgetWait:
                return  # the next slot is past the deadline
            if permit.granted_at >= stop_at:
                await budget.release(permit, None, None, sent=False)
                return
            if request_s:
                await asyncio.sleep(request_s)
            now = await redis_time(redis)
            assert permit.slot is not None
            grants.append((permit.granted_at, permit.slot, now))
            await budget.release(permit, None, 201)

    try:
        await asyncio.gather(*(one() for _ in range(tasks)))
    finally:
        await redis.aclose()
    return grants


def hammer(
    config: BudgetConfig,
    tasks: int,
    request_s: float,
    ready: Queue[Any],
    go: Event,
    stop_at: Any,
    results: Queue[Any],
) -> None:
    """Say ready, wait for ``go``, then acquire writes from ``tasks`` tasks until the Redis
    time in ``stop_at`` (a shared double); put ``[(granted_at, slot, done_at), ...]``."""
    ready.put("ready")
    if not go.wait(timeout=60):
        results.put([])
        return
    results.put(asyncio.run(_hammer(config, float(stop_at.value), tasks, request_s)))


# -- hold_lease: take an in-flight slot and hang until killed -----------------------------


async def _hold(config: BudgetConfig, conn: Connection) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        permit = await GitHubBudget(redis, config).acquire("GET", max_wait_s=5)
        conn.send(permit.lease_expires_at)
    finally:
        await redis.aclose()
    deadline = time.monotonic() + 60  # bounded: the parent kills it long before
    while time.monotonic() < deadline and not conn.poll(1.0):
        pass


def hold_lease(config: BudgetConfig, conn: Connection) -> None:
    """Acquire a read permit, send its lease expiry through ``conn``, then hang (at most
    60 s) without ever releasing it: the parent SIGKILLs this process."""
    asyncio.run(_hold(config, conn))


# -- reject: hold a granted write, answer it with a rate-limit rejection on cue -----------


async def _acquire(config: BudgetConfig, method: str) -> Permit:
    redis = Redis.from_url(REDIS_URL)
    try:
        return await GitHubBudget(redis, config).acquire(method, max_wait_s=5)
    finally:
        await redis.aclose()


async def _release(
    config: BudgetConfig, permit: Permit, headers: dict[str, str], status: int
) -> float:
    redis = Redis.from_url(REDIS_URL)
    try:
        before = await redis_time(redis)
        await GitHubBudget(redis, config).release(permit, headers, status)
        return before
    finally:
        await redis.aclose()


def reject(
    config: BudgetConfig,
    method: str,
    headers: dict[str, str],
    status: int,
    granted: Queue[Any],
    go: Event,
    done: Queue[Any],
) -> None:
    """Acquire a ``method`` permit, put its ``granted_at`` on ``granted``, wait for ``go``,
    then release it with the rejection ``status``/``headers``; put the Redis time just
    before the release on ``done``."""
    permit = asyncio.run(_acquire(config, method))
    granted.put(permit.granted_at)
    if not go.wait(timeout=60):
        done.put(None)
        return
    done.put(asyncio.run(_release(config, permit, headers, status)))

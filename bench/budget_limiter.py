"""The fleet-wide write limiter under load: N processes x T tasks writing as fast as allowed.

``python -m bench.budget_limiter [--processes 4] [--tasks 8] [--scale 0.01] [--hours 1.1]``

GitHub's real limits (80 writes a minute, 500 an hour, 10 in flight) with every duration
multiplied by ``--scale`` (0.01: a 0.6 s "minute" and a 36 s "hour"); the safety margin
and start tolerance are scaled too but kept above 50 ms / 25 ms, below which scheduler
noise, not the limiter, decides. Each task loops: acquire a POST permit (waiting at most
``--max-wait-s``, scaled; a longer wait raises ``BudgetWait`` and the task defers itself
by the wait it was told, as a job would), hold it ``--request-ms``, release it. Grant
times are Redis's clock.

Prints the achieved rate against both limits, the most writes seen in any sliding window
of either length, the most in flight at once, acquire waits, the idle cost of one
acquire + release, and the command that ran it. Uses Redis db 14 (or
``BENCH_BUDGET_REDIS_URL``) under a random key prefix and deletes its keys at the end;
a db flushed by someone else during the run voids the figures, and it says so. Talks to
127.0.0.1 only; nothing asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import platform
import secrets
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import structlog
from redis.asyncio import Redis

from sandbox.stats import max_in_window as ascending_max_in_window
from shared.budget import BudgetConfig, BudgetWait, GitHubBudget

REDIS_URL = os.environ.get("BENCH_BUDGET_REDIS_URL", "redis://127.0.0.1:6379/14")
Grant = tuple[float, float, float]  # granted_at, done_at (Redis clock), waited_s


async def _now(redis: Redis) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1e6


async def _tasks(
    config: BudgetConfig, stop_at: float, tasks: int, request_s: float, max_wait_s: float
) -> tuple[list[Grant], int]:
    redis = Redis.from_url(REDIS_URL)
    budget = GitHubBudget(redis, config)
    grants: list[Grant] = []
    deferrals = 0

    async def one() -> None:
        nonlocal deferrals
        now = await _now(redis)
        for _ in range(1_000_000):
            if now >= stop_at:
                return
            try:
                permit = await budget.acquire("POST", max_wait_s=min(max_wait_s, stop_at - now))
            except BudgetWait as wait:
                if wait.retry_at >= stop_at:
                    return
                deferrals += 1
                await asyncio.sleep(wait.wait_s)  # "defer the job" by what it was told
                now = await _now(redis)
                continue
            if permit.granted_at >= stop_at:
                await budget.release(permit, None, None, sent=False)
                return
            await asyncio.sleep(request_s)
            now = await _now(redis)
            grants.append((permit.granted_at, now, permit.waited_s))
            await budget.release(permit, None, 201)

    try:
        await asyncio.gather(*(one() for _ in range(tasks)))
    finally:
        await redis.aclose()
    return grants, deferrals


def _quiet() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def child(
    config: BudgetConfig,
    tasks: int,
    request_s: float,
    max_wait_s: float,
    ready: Queue[Any],
    go: Event,
    stop_at: Any,
    results: Queue[Any],
) -> None:
    """One process of the fleet: ready, wait for go, run ``tasks`` writers, report."""
    _quiet()
    ready.put(os.getpid())
    if not go.wait(timeout=120):
        results.put(([], 0))
        return
    results.put(asyncio.run(_tasks(config, float(stop_at.value), tasks, request_s, max_wait_s)))


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most of ``times`` (any order) in any half-open interval ``[t, t + window)``."""
    return ascending_max_in_window(sorted(times), window)


def max_overlap(intervals: Sequence[tuple[float, float]]) -> int:
    """The most of ``intervals`` sharing one instant."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def _idle_cost(config: BudgetConfig, rounds: int) -> tuple[float, float]:
    """Microseconds per acquire + release on an idle budget, for a read and a write (a
    measurement that someone's FLUSHDB interrupts is taken again, three times at most)."""
    redis = Redis.from_url(REDIS_URL)
    idle = replace(config, key_prefix=config.key_prefix + "idle:", writes_per_minute=10**6)
    idle = replace(idle, writes_per_hour=10**6)
    budget = GitHubBudget(redis, idle)
    costs: list[float] = []
    try:
        for method in ("GET", "POST"):  # warm up: connection, script loading
            await budget.release(await budget.acquire(method, max_wait_s=1), None, 200)
        for method in ("GET", "POST"):
            for _ in range(3):
                try:
                    started = time.perf_counter()
                    for _ in range(rounds):
                        permit = await budget.acquire(method, max_wait_s=1)
                        await budget.release(permit, None, 200)
                    costs.append((time.perf_counter() - started) / rounds * 1e6)
                    break
                except BudgetWait as wait:
                    await asyncio.sleep(wait.wait_s)
            else:
                costs.append(float("nan"))
    finally:
        await redis.aclose()
    return costs[0], costs[1]


async def _set(key: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.set(key, "1")
    finally:
        await redis.aclose()


async def _exists(key: str) -> bool:
    redis = Redis.from_url(REDIS_URL)
    try:
        return bool(await redis.exists(key))
    finally:
        await redis.aclose()


async def _cleanup(prefix: str) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print its figures. Returns the exit code."""
    _quiet()
    parser = argparse.ArgumentParser(prog="python -m bench.budget_limiter", description=__doc__)
    parser.add_argument("--processes", type=int, default=4, help="fleet processes (4)")
    parser.add_argument("--tasks", type=int, default=8, help="writers per process (8)")
    parser.add_argument("--scale", type=float, default=0.01, help="duration factor (0.01)")
    parser.add_argument("--hours", type=float, default=1.1, help="run length in hours (1.1)")
    parser.add_argument("--request-ms", type=float, default=5.0, help="time a permit is held")
    parser.add_argument("--max-wait-s", type=float, default=10.0, help="unscaled (10 s)")
    parser.add_argument("--in-flight", type=int, default=10, help="max_in_flight (10)")
    args = parser.parse_args(argv)

    base = BudgetConfig(
        key_prefix=f"{{bench-budget-{secrets.token_hex(4)}}}:", max_in_flight=args.in_flight
    )
    config = base.scaled(args.scale)
    config = replace(
        config,
        safety_margin_s=max(config.safety_margin_s, 0.05),
        start_tolerance_s=max(config.start_tolerance_s, 0.025),
    )
    run_s = args.hours * config.hour_window_s
    max_wait = args.max_wait_s * args.scale
    command = "python -m bench.budget_limiter " + shlex.join(sys.argv[1:] if argv is None else argv)
    print(f"$ {command}".rstrip())
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.processes} processes x {args.tasks} tasks, {args.request_ms:g} ms per request"
    )
    print(
        f"limits: {config.writes_per_minute} per {config.minute_window_s:g} s, "
        f"{config.writes_per_hour} per {config.hour_window_s:g} s, "
        f"{config.max_in_flight} in flight; margin {config.safety_margin_s:g} s, "
        f"tolerance {config.start_tolerance_s:g} s, max wait {max_wait:g} s; run {run_s:.1f} s",
        flush=True,
    )

    idle_read_us, idle_write_us = asyncio.run(_idle_cost(config, 1000))  # before the fleet
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go, stop_at = ctx.Event(), ctx.Value("d", 0.0)
    procs = [
        ctx.Process(
            target=child,
            args=(
                config,
                args.tasks,
                args.request_ms / 1000,
                max_wait,
                ready,
                go,
                stop_at,
                results,
            ),
        )
        for _ in range(args.processes)
    ]
    grants: list[Grant] = []
    deferrals = 0
    intact = False
    try:
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.get(timeout=60)

        async def start_time() -> float:
            redis = Redis.from_url(REDIS_URL)
            try:
                return await _now(redis)
            finally:
                await redis.aclose()

        sentinel = config.key_prefix + "sentinel"
        asyncio.run(_set(sentinel))
        started = asyncio.run(start_time())
        stop_at.value = started + run_s
        go.set()
        for _ in procs:
            got, deferred = results.get(timeout=run_s + 120)
            grants += got
            deferrals += deferred
        intact = asyncio.run(_exists(sentinel))
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        asyncio.run(_cleanup(config.key_prefix))
    if not intact:
        print(
            "!! the budget's keys vanished during the run (someone flushed the Redis db):"
            " these figures are void; run again, or elsewhere with BENCH_BUDGET_REDIS_URL",
            flush=True,
        )

    if not grants:
        print("no grants", flush=True)
        return 1
    granted = sorted(g for g, _, _ in grants)
    t0 = granted[0]
    minute, hour = config.minute_window_s, config.hour_window_s
    first_hour = sum(1 for g in granted if g < t0 + hour)
    # sustained rate: from the first write to the first of the k-th minute burst, before
    # the hour limit binds (counting whole bursts, so the first burst's head start is out)
    per_minute = config.writes_per_minute
    k = (min(len(granted), config.writes_per_hour) - 1) // per_minute
    j = k * per_minute
    minute_rate = j / (granted[j] - t0) * minute if k >= 1 and granted[j] > t0 else 0.0
    waits = [w for _, _, w in grants]
    rows = [
        ("writes granted", f"{len(granted)} in {run_s:.1f} s, {deferrals} deferrals"),
        (
            "max in any minute window",
            f"{max_in_window(granted, minute)} (limit {config.writes_per_minute})",
        ),
        (
            "max in any hour window",
            f"{max_in_window(granted, hour)} (limit {config.writes_per_hour})",
        ),
        (
            "sustained rate, minute limit binding",
            f"{minute_rate:.1f} per minute window ({minute_rate / per_minute:.1%} of "
            f"{per_minute}; the margin allows {minute / (minute + config.safety_margin_s):.1%}; "
            f"{j} writes from the first to the {k + 1}th burst)",
        ),
        (
            "first hour window",
            f"{first_hour} writes ({first_hour / config.writes_per_hour:.1%} of "
            f"{config.writes_per_hour})",
        ),
        (
            "max in flight",
            f"{max_overlap([(g, d) for g, d, _ in grants])} (limit {config.max_in_flight})",
        ),
        (
            "acquire wait p50 / p99 / max",
            f"{_percentile(waits, 50) * 1000:.1f} / {_percentile(waits, 99) * 1000:.1f} / "
            f"{max(waits) * 1000:.1f} ms",
        ),
        (
            "idle acquire + release",
            f"{idle_read_us:.0f} us (GET), {idle_write_us:.0f} us (POST), one process",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(flush=True)
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())

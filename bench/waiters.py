"""Long-poll waiters: wake-up latency and database connections with up to 500 of them.

``GET /api/projects/{id}?wait=50`` with ``If-None-Match`` parks a request until the
project's ETag changes; the API holds one LISTEN connection and the parked requests
hold none. Real API and worker processes (:func:`cli.harness.running_stack`, the
sandbox in this process), a throw-away database (``provisioner_bench_waiters_<hex>``,
dropped at the end), a queue of its own in Redis db 13.

1. Wake-up latency. The worker is stopped (SIGSTOP) before the project is created,
   so the project stays ``pending_repo`` and nothing else changes it. N waiters are
   parked (``/metrics``: ``provisioner_long_polls_waiting == N`` and no pool
   connection checked out, twice in a row); then this process commits
   ``UPDATE projects SET version = version + 1 …`` (asyncpg) and takes
   ``t0 = perf_counter()`` right after COMMIT returns. Latency = arrival of each
   waiter's 200 − t0. N = 1, 100, 500; 5, 3 and 3 rounds, after one unreported
   warm-up round of 20. Two client set-ups: one ``httpx.AsyncClient`` with
   ``Limits(max_connections=N+10)``, and the same waiters spread over 20 clients.
   The first is CPU-bound in httpcore's pool with hundreds of connections (it scans
   every connection whenever a request starts or ends), so at N=500 it measures
   the load generator; the second leaves the API as the bottleneck.
2. One real transition: 500 waiters (20 clients) parked, the worker continued
   (SIGCONT); each waiter long-polls again after every change until it sees
   ``ready``. Reported: SIGCONT → all 500 saw ``ready``, and from the ``ready``
   NOTIFY as this process received it (its own LISTEN connection) to each
   waiter's ``ready``.
3. Connections, during every 500-waiter round: ``pg_stat_activity`` of this database
   (``provisioner-api`` and ``provisioner-api-listen``) and
   ``provisioner_db_connections_checked_out`` from ``/metrics``, every 20 ms from a
   thread of their own.

A reference burst follows each 500-waiter set-up: 500 concurrent
``GET /api/projects/{id}`` without ``wait`` (each authenticates and reads).

The load generator runs in this process; its CPU and the API's during each wake-up
are printed so a client bottleneck is visible (this process also hosts the GitHub
sandbox, busy only during part 2). A GET that fails with ``httpx.TransportError``
is sent again (as agents do) and counted. Bounded by a 150 s time limit; everything
started is stopped and the database dropped.

    python -m bench.waiters
"""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bench.common import REDIS_URL, percentile, table
from bench.waiter_probes import (
    CROWD,
    MAX_OVERFLOW,
    POOL_SIZE,
    SHARDS,
    TIME_LIMIT_S,
    WAIT_S,
    WARMUP_WAITERS,
    Bench,
    Counters,
    Notifications,
    Sampler,
    WakeRound,
    WorkerRun,
    connect,
    ms,
    open_pools,
    pct,
    worker_transition,
)
from cli.harness import Stack, running_stack

__all__ = ["main", "run"]

COMMAND = "python -m bench.waiters"
ROUNDS: list[tuple[int, int]] = [(1, 5), (100, 3), (500, 3)]
"""(waiters, rounds) of the wake-up latency part."""


@dataclass
class Results:
    """Everything printed at the end; ``rounds`` by (clients, waiters)."""

    rounds: dict[tuple[int, int], list[WakeRound]]
    worker: WorkerRun
    bursts: dict[int, float]
    """Seconds of the reference burst, by number of clients."""
    peaks: dict[str, dict[str, int]]
    samples: dict[str, dict[str, int]]
    counters: Counters
    total_s: float = 0.0


def _clients(shards: int) -> str:
    return "1 client" if shards == 1 else f"{shards} clients"


async def _measure(stack: Stack) -> Results:
    token = await stack.token("user", "bench-waiters")
    bumper = await connect(stack.database_url, "provisioner-bench")
    listener = await connect(stack.database_url, "provisioner-bench-listen")
    notes = Notifications()
    worker = stack.children.pid("worker")
    rounds: dict[tuple[int, int], list[WakeRound]] = {}
    bursts: dict[int, float] = {}
    try:
        await listener.add_listener("project_changed", notes)
        async with httpx.AsyncClient(
            base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as control:
            os.kill(worker, signal.SIGSTOP)  # the project stays pending: only we change it
            created = await control.post("/api/projects/", json={"name": "Waiters bench"})
            created.raise_for_status()
            project_id, etag = created.json()["id"], created.headers["etag"]
            sampler = Sampler(stack.database_url, stack.api_url)
            bench = Bench(stack, control, bumper, sampler, project_id, etag)
            sampler.start()
            try:
                async with open_pools(stack.api_url, token, WARMUP_WAITERS, 1) as pools:
                    await bench.wake_round(pools, WARMUP_WAITERS, phase=None)
                for shards in (1, SHARDS):
                    for count, repeats in ROUNDS:
                        if shards > 1 and count == 1:
                            continue
                        phase = f"manual, {_clients(shards)}" if count == CROWD else None
                        async with open_pools(stack.api_url, token, count, shards) as pools:
                            rounds[shards, count] = [
                                await bench.wake_round(pools, count, phase=phase)
                                for _ in range(repeats)
                            ]
                            if count == CROWD:
                                bursts[shards] = await bench.reference_burst(pools, CROWD)
                async with open_pools(stack.api_url, token, CROWD, SHARDS) as pools:
                    worker_run = await worker_transition(bench, pools, notes)
            finally:
                sampler.stop()
    finally:
        os.kill(worker, signal.SIGCONT)
        for connection in (bumper, listener):
            await connection.close()
    bench.counters.metrics_retries += sampler.counters.metrics_retries
    return Results(
        rounds, worker_run, bursts, dict(sampler.peaks), dict(sampler.samples), bench.counters
    )


def _stats(values: Sequence[float]) -> list[str]:
    return [ms(percentile(values, p)) for p in (50, 90, 99)] + [ms(max(values))]


def _print_header() -> None:
    print("\n== long-poll waiters: wake-up latency and DB connections")
    print(f"command: {COMMAND}")
    print(
        f"machine: nproc {os.cpu_count()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )
    print(
        f"API pool in effect: DB_POOL_SIZE={POOL_SIZE}, DB_MAX_OVERFLOW={MAX_OVERFLOW} "
        f"(max {int(POOL_SIZE) + int(MAX_OVERFLOW)} connections); one uvicorn process; "
        f"waiters send ?wait={WAIT_S} with If-None-Match",
        flush=True,
    )


def _print(results: Results) -> None:
    print(
        "\n1. commit of a version bump (this process, asyncpg) → each waiter's 200 arrives "
        f"(ms; worker stopped; a {WARMUP_WAITERS}-waiter warm-up round not counted)"
    )
    print(
        "   1 client: one httpx.AsyncClient, Limits(max_connections=N+10); "
        f"{SHARDS} clients: the N waiters spread over {SHARDS} AsyncClients (N/{SHARDS}+10 each)"
    )
    rows: list[list[object]] = []
    for (shards, count), rounds in results.rounds.items():
        every = [x for r in rounds for x in r.latencies]
        rows.append([f"{count}, {_clients(shards)}", len(rounds), len(every), *_stats(every)])
        if count > 1:
            for i, r in enumerate(rounds, 1):
                rows.append(
                    [f"  round {i}", "", len(r.latencies), *_stats(r.latencies),
                     pct(r.api_cpu), pct(r.client_cpu)]
                )  # fmt: skip
    for row in rows:
        row.extend([""] * (9 - len(row)))
    table(
        ["waiters", "rounds", "answers", "p50", "p90", "p99", "max", "API CPU", "client CPU"],
        rows,
    )
    print("   CPU = share of one core from t0 to the last answer (API process / this process)")

    w = results.worker
    print(
        f"\n2. one real transition through the worker (SIGCONT), {CROWD} waiters on "
        f"{_clients(SHARDS)} following the project to ready"
    )
    table(
        ["figure", "value"],
        [
            ["SIGCONT → all waiters saw ready (ms)", ms(w.sigcont_to_all_ready)],
            ["ready NOTIFY (seen here) → waiter saw ready, p50 (ms)",
             ms(percentile(w.notify_to_ready, 50))],
            ["ready NOTIFY (seen here) → waiter saw ready, p90 (ms)",
             ms(percentile(w.notify_to_ready, 90))],
            ["ready NOTIFY (seen here) → waiter saw ready, p99 (ms)",
             ms(percentile(w.notify_to_ready, 99))],
            ["ready NOTIFY (seen here) → waiter saw ready, max (ms)",
             ms(max(w.notify_to_ready))],
            ["long polls sent by the waiters", w.requests],
            ["statuses seen", ", ".join(w.statuses)],
            ["API CPU / client CPU (SIGCONT → last ready)",
             f"{pct(w.api_cpu)} / {pct(w.client_cpu)}"],
        ],
    )  # fmt: skip

    print(f"\n3. connections while {CROWD} waiters are parked and woken (sampled every 20 ms)")
    rows = []
    for phase, peaks in results.peaks.items():
        samples = results.samples.get(phase, {})
        rows.append(
            [phase, peaks.get("api", 0), peaks.get("api_active", 0), peaks.get("listen", 0),
             peaks.get("checked_out", 0),
             f"{samples.get('database', 0)} / {samples.get('metrics', 0)}"]
        )  # fmt: skip
    table(
        ["phase (3 rounds each; worker: 1 run)", "provisioner-api", "of them not idle",
         "provisioner-api-listen", "checked_out (/metrics)", "samples pg / metrics"],
        rows,
    )  # fmt: skip
    print("   peaks; pg_stat_activity rows of this database only")

    print(f"\nreference: {CROWD} concurrent GET /api/projects/{{id}} without wait (no long poll)")
    table(
        ["clients", "all answered (ms)", "per second"],
        [[_clients(k), ms(v), f"{CROWD / v:.0f}"] for k, v in results.bursts.items()],
    )
    c = results.counters
    unexpected = ", ".join(f"{k}: {v}" for k, v in sorted(c.unexpected.items())) or "none"
    print(
        f"client: waiters' GETs retried after httpx.TransportError: {c.retries}; "
        f"non-200 answers: {unexpected}; the benchmark's own /metrics reads retried: "
        f"{c.metrics_retries}"
    )
    print(f"total {results.total_s:.1f} s", flush=True)


async def run() -> None:
    """Start the stack on a throw-away database, measure, print."""
    _print_header()
    started = time.perf_counter()
    async with (
        asyncio.timeout(TIME_LIMIT_S),
        running_stack(
            "bench_waiters",
            redis_url=REDIS_URL,
            env={
                "LOG_LEVEL": "WARNING",
                "DB_POOL_SIZE": POOL_SIZE,
                "DB_MAX_OVERFLOW": MAX_OVERFLOW,
            },
        ) as stack,
    ):
        results = await _measure(stack)
    results.total_s = time.perf_counter() - started
    _print(results)


def main() -> None:
    """Entry point of ``python -m bench.waiters``."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

"""``POST /api/projects/`` throughput and latency at concurrency 32, next to the original design.

Row 1 is this service: a real API process (``python -m cli.main api``) on a
temporary database, answering 202 after storing the project and enqueuing its
job. No worker runs, so the jobs wait in Redis db 13 (in this run's queue, deleted
at the end) and nothing competes with the API for the 2 cores but PostgreSQL and Redis.

Row 2 is the original design, provisioning inside the request
(:mod:`bench.baseline_app`, a child process, started once the API is stopped)
against the sandbox (another child process, 100 ms per GitHub call, OpenAPI
validation off to keep its CPU low).

The load generator is an ``httpx.AsyncClient`` in this process with a semaphore
of 32; its CPU share is printed so you can see whether it was the bottleneck.

    python -m bench.post_throughput
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import REDIS_URL, CpuMeter, header, percentile, table
from cli.harness import Sandbox, Stack, running_stack
from cli.processes import PYTHON, free_port, wait_until_up

__all__ = ["main", "run"]

COMMAND = "python -m bench.post_throughput"
CONCURRENCY = 32
WARMUP = 200
REQUESTS = 2000
BASELINE_WARMUP = 32
BASELINE_REQUESTS = 320
SANDBOX_LATENCY_MS = 100
TIME_LIMIT_S = 180


@dataclass
class LoadResult:
    """What one load run saw."""

    label: str
    requests: int
    elapsed_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: CpuMeter = field(default_factory=lambda: CpuMeter({}))

    def row(self, expected: int) -> list[object]:
        """The table row: requests, req/s, p50/p99/max latency, unexpected answers."""
        lat = self.latencies_s or [float("nan")]
        unexpected = sum(n for s, n in self.statuses.items() if s != expected)
        return [
            self.label,
            self.requests,
            CONCURRENCY,
            f"{self.requests / self.elapsed_s:.1f}",
            f"{percentile(lat, 50) * 1000:.1f}",
            f"{percentile(lat, 99) * 1000:.1f}",
            f"{max(lat) * 1000:.1f}",
            unexpected + sum(self.errors.values()),
        ]


def _body(prefix: str, i: int) -> dict[str, Any]:
    return {
        "name": f"bench {prefix} {i}",
        "description": "POST throughput benchmark",
        "config": {"language": "python"},
        "secrets": {"API_KEY": "sk-bench-" + secrets.token_hex(8)},
    }


async def drive(
    base_url: str,
    *,
    count: int,
    prefix: str,
    label: str,
    token: str | None = None,
    cpu_pids: dict[str, int] | None = None,
) -> LoadResult:
    """``count`` POSTs, at most ``CONCURRENCY`` in flight, each with a unique name."""
    result = LoadResult(label, count)
    semaphore = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=60
    ) as http:

        async def one(i: int) -> None:
            async with semaphore:
                body = _body(prefix, i)
                started = time.perf_counter()
                try:
                    response = await http.post("/api/projects/", json=body)
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    return
                result.latencies_s.append(time.perf_counter() - started)
                result.statuses[response.status_code] += 1

        meter = CpuMeter(cpu_pids or {})
        meter.start()
        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        result.elapsed_s = time.perf_counter() - started
        meter.stop()
        result.cpu = meter
    return result


async def _this_service(stack: Stack, run_id: str) -> LoadResult:
    token = await stack.token("user", "bench")
    await drive(stack.api_url, count=WARMUP, prefix=f"{run_id} warm", label="warm-up", token=token)
    return await drive(
        stack.api_url,
        count=REQUESTS,
        prefix=run_id,
        label="202 + enqueue (this service)",
        token=token,
        cpu_pids={"api": stack.children.pid("api")},
    )


async def _baseline(stack: Stack, run_id: str) -> LoadResult:
    port = free_port()
    args = [PYTHON, "-m", "bench.baseline_app", "--port", str(port)]
    proc = stack.children.start("baseline", args, stack.env)  # its GitHub settings are there
    url = f"http://127.0.0.1:{port}"
    await wait_until_up(f"{url}/openapi.json", stack.children)
    # The warm-up mints the installation token and opens the connection pools.
    await drive(url, count=BASELINE_WARMUP, prefix=f"{run_id} base warm", label="warm-up")
    result = await drive(
        url,
        count=BASELINE_REQUESTS,
        prefix=f"{run_id} base",
        label=f"provisioning in the request ({SANDBOX_LATENCY_MS} ms/GitHub call)",
        cpu_pids={"baseline app": proc.pid, "sandbox": stack.children.pid("sandbox")},
    )
    stack.stop("baseline")
    return result


async def run() -> None:
    """Both designs, one after the other, then one table."""
    header("POST /api/projects/ throughput at concurrency 32", COMMAND)
    run_id = secrets.token_hex(3)
    sandbox = Sandbox(process=True, latency_s=SANDBOX_LATENCY_MS / 1000, validate=False)
    async with (
        asyncio.timeout(TIME_LIMIT_S),
        running_stack("bench_post", redis_url=REDIS_URL, sandbox=sandbox, workers=0) as stack,
    ):
        ours = await _this_service(stack, run_id)
        stack.stop("api")  # the baseline runs alone (but for the sandbox it calls)
        baseline = await _baseline(stack, run_id)
    print(
        f"one secret per request, unique names; warm-up {WARMUP} (this service) and "
        f"{BASELINE_WARMUP} (baseline) requests not counted"
    )
    table(
        ["design", "requests", "concurrency", "req/s", "p50 ms", "p99 ms", "max ms", "errors"],
        [ours.row(202), baseline.row(201)],
    )
    speedup = (ours.requests / ours.elapsed_s) / (baseline.requests / baseline.elapsed_s)
    print(f"this service answers {speedup:.1f}x as many POSTs per second as the baseline")
    for result in (ours, baseline):
        statuses = dict(sorted(result.statuses.items()))
        errors = f", transport errors {dict(result.errors)}" if result.errors else ""
        print(f"{result.label}: statuses {statuses}{errors}")
        print(f"  {result.cpu.summary()}")
        busiest, share = max(result.cpu.shares.items(), key=lambda item: item[1])
        per_request_ms = share * result.elapsed_s / result.requests * 1000
        print(
            f"  busiest: {busiest}, {share * 100:.0f}% of a core = "
            f"{per_request_ms:.1f} ms CPU per request"
        )
    print(
        "notes: no worker ran during row 1 (its jobs wait in Redis and are deleted); "
        "the baseline has no database, queue or auth and no write spacing, "
        "so it is the best case of the old design"
    )


def main() -> None:
    """Entry point of ``python -m bench.post_throughput``."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

"""500 agents long-polling one API process: all see the transition, few DB connections used."""

from __future__ import annotations

import asyncio
import os
import signal

import asyncpg
import httpx
import pytest

from cli.harness import plain_dsn
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

WAITERS = 500
POOL_SIZE, MAX_OVERFLOW = 8, 0


stack = module_stack(
    "waiters",
    redis_db=15,
    LOG_LEVEL="WARNING",
    DB_POOL_SIZE=str(POOL_SIZE),
    DB_MAX_OVERFLOW=str(MAX_OVERFLOW),
)


async def _metric(http: httpx.AsyncClient, name: str) -> float:
    text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_500_waiters_see_the_transition_within_the_pool(stack: Stack) -> None:
    token = await stack.token("user", "crowd")
    monitor = await asyncpg.connect(plain_dsn(stack.database_url))
    worker = stack.children.pid("worker")
    try:
        results, peak = await _crowd(stack, token, monitor, worker)
    finally:
        os.kill(worker, signal.SIGCONT)
        await monitor.close()
    assert len(results) == WAITERS
    assert all(seen[-1] == "ready" for seen in results)
    assert all("provisioning" in seen or "ready" in seen for seen in results)
    assert peak <= POOL_SIZE + MAX_OVERFLOW


async def _crowd(
    stack: Stack, token: str, monitor: asyncpg.Connection, worker: int
) -> tuple[list[list[str]], int]:
    limits = httpx.Limits(max_connections=WAITERS + 10, max_keepalive_connections=WAITERS + 10)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=stack.api_url, headers=auth, limits=limits, timeout=60
    ) as http:
        os.kill(worker, signal.SIGSTOP)  # the project stays pending until the crowd waits
        created = await http.post("/api/projects/", json={"name": "Crowd"})
        project_id = created.json()["id"]
        etag = created.headers["etag"]

        async def wait_for_ready() -> list[str]:
            seen: list[str] = []
            tag = etag
            while not seen or seen[-1] != "ready":
                try:
                    answer = await http.get(
                        f"/api/projects/{project_id}",
                        params={"wait": 50},
                        headers={"If-None-Match": tag},
                    )
                except httpx.TransportError:  # as agents do: ask again (keep-alive races)
                    continue
                if answer.status_code == 200:
                    seen.append(answer.json()["status"])
                    tag = answer.headers["etag"]
            return seen

        waiters = [asyncio.ensure_future(wait_for_ready()) for _ in range(WAITERS)]
        peak = 0

        async def api_connections() -> int:
            count: int = await monitor.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'provisioner-api'"
                " AND datname = current_database()"
            )
            return count

        while await _metric(http, "provisioner_long_polls_waiting") < WAITERS:
            peak = max(peak, await api_connections())
            await asyncio.sleep(0.05)
        os.kill(worker, signal.SIGCONT)
        pending = set(waiters)
        while pending:
            peak = max(peak, await api_connections())
            _, pending = await asyncio.wait(pending, timeout=0.05)
        return [w.result() for w in waiters], peak

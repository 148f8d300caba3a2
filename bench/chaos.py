"""GitHub failing 30 % of the time, a worker SIGKILLed mid-run, Redis flushed once.

30 projects with 2 secrets each, 2 workers, every setting the default. After
the first projects are ready one worker is killed with SIGKILL; a little later
Redis loses everything (FLUSHDB: jobs, the fair queue, the budget). Request
retries, job retries, durable progress and the sweeper must still bring every
project to ``ready`` with exactly one repository, one ``.project.yaml`` commit
and the right secret values, checked on the sandbox side.

    python -m bench.chaos
"""

from __future__ import annotations

import asyncio
import secrets
import time

import asyncpg
from redis.asyncio import Redis

from bench.common import header, quiet_logs, table
from bench.fleet import create_projects, wait_all_ready
from cli.harness import Sandbox, plain_dsn, running_stack

__all__ = ["main", "run"]

COMMAND = "python -m bench.chaos"
PROJECTS = 30
ERROR_RATE = 0.3
REDIS_URL = "redis://127.0.0.1:6379/9"
"""A database of its own: this benchmark flushes it."""
SECRETS = {"API_KEY": "chaos-a", "DB_PASSWORD": "chaos-b"}


async def _ready_count(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM projects WHERE status = 'ready'"))


async def _until_ready(connection: asyncpg.Connection, count: int) -> int:
    """Poll PostgreSQL until at least ``count`` projects are ready; returns how many are."""
    while (ready := await _ready_count(connection)) < count:  # noqa: ASYNC110 - a DB poll
        await asyncio.sleep(0.05)
    return ready


async def run() -> None:
    """Run the benchmark and print its table."""
    header(
        f"{PROJECTS} projects, {ERROR_RATE:.0%} GitHub 5xx, 2 workers, one SIGKILLed, "
        "Redis flushed once",
        COMMAND,
    )
    quiet_logs()
    run_id = secrets.token_hex(3)
    async with running_stack("chaos", redis_url=REDIS_URL, workers=2, sandbox=Sandbox()) as stack:
        sandbox = stack.sandbox
        sandbox.faults.server_error_rate = ERROR_RATE
        started = time.monotonic()
        names = [f"chaos {run_id} {n}" for n in range(PROJECTS)]
        ids = await create_projects(stack, names, SECRETS)
        connection = await asyncpg.connect(plain_dsn(stack.database_url))
        try:
            killed_after = await _until_ready(connection, 3)
            stack.kill("worker-2")
            await _until_ready(connection, killed_after + 3)
            redis = Redis.from_url(REDIS_URL)
            await redis.flushdb()
            await redis.aclose()
            flushed_after = await _ready_count(connection)
            await wait_all_ready(stack, ids, timeout_s=900)
            took = time.monotonic() - started
            rows = await connection.fetch(
                "SELECT status, repo_full_name, attempts FROM projects WHERE id = ANY($1)", ids
            )
        finally:
            await connection.close()
        sandbox.faults.server_error_rate = 0.0
        repos = sandbox.repositories
        by_name = {r.full_name.lower(): r for r in repos}
        good_files = good_secrets = 0
        for row in rows:
            repo = by_name.get(str(row["repo_full_name"]).lower())
            if repo is None:
                continue
            good_files += [c.path for c in repo.commits] == [".project.yaml"]
            good_secrets += repo.secrets == SECRETS
        failures = sum(1 for r in sandbox.requests if r.status >= 500)
    table(
        ["figure", "value", "target"],
        [
            ("ready", f"{sum(r['status'] == 'ready' for r in rows)} of {PROJECTS}", str(PROJECTS)),
            ("repositories on GitHub", str(len(repos)), f"{PROJECTS} (one each)"),
            ("exactly one .project.yaml commit", str(good_files), str(PROJECTS)),
            ("right secrets", str(good_secrets), str(PROJECTS)),
            ("GitHub 5xx answers injected", str(failures), ""),
            ("attempts (max)", str(max(r["attempts"] for r in rows)), ""),
            (
                "killed worker-2 after / flushed Redis after",
                f"{killed_after} / {flushed_after} ready",
                "",
            ),
            ("all ready after", f"{took:.0f} s", ""),
        ],
    )
    print(f"\n  {COMMAND}", flush=True)


def main() -> None:
    """Console entry point."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

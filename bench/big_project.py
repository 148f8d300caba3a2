"""A project with 100 secrets reaches ``ready`` under the default job timeout, at 103 requests.

102 writes do not fit GitHub's 80 per minute: the first 80 go at once, then
the fleet budget makes the job wait; it defers itself (no attempt spent),
keeps what it did (durable progress) and finishes in a later run without
repeating a request. The minimum is 3 + n = 103 repository requests (create,
``.project.yaml``, the secrets key, 100 secrets); the App's own calls
(installation lookup, token) are counted apart. Default settings; the sandbox
enforces GitHub's limits.

    python -m bench.big_project
"""

from __future__ import annotations

import asyncio
import secrets

import asyncpg

from bench.common import REDIS_URL, header, quiet_logs, table
from bench.fleet import create_projects, enforce_github_limits, repository_requests, wait_all_ready
from cli.harness import Sandbox, plain_dsn, running_stack

__all__ = ["main", "run"]

COMMAND = "python -m bench.big_project"
SECRETS = 100
LATENCY_S = 0.1


async def run() -> None:
    """Run the benchmark and print its table."""
    header(f"one project with {SECRETS} secrets, sandbox enforcing GitHub's limits", COMMAND)
    quiet_logs()
    values = {f"SECRET_{n:03d}": f"value-{n}" for n in range(SECRETS)}
    async with running_stack(
        "big-project", redis_url=REDIS_URL, sandbox=Sandbox(latency_s=LATENCY_S)
    ) as stack:
        sandbox = stack.sandbox
        enforce_github_limits(sandbox)
        [project_id] = await create_projects(stack, [f"big {secrets.token_hex(3)}"], values)
        took = await wait_all_ready(stack, [project_id], timeout_s=600)
        connection = await asyncpg.connect(plain_dsn(stack.database_url))
        try:
            row = await connection.fetchrow(
                "SELECT status, attempts, repo_full_name FROM projects WHERE id = $1", project_id
            )
            events = await connection.fetch(
                "SELECT kind, at, data FROM project_events WHERE project_id = $1 ORDER BY id",
                project_id,
            )
            kinds = [r["kind"] for r in events]
        finally:
            await connection.close()
        assert row is not None
        owner, name = str(row["repo_full_name"]).split("/")
        repo = sandbox.repository(owner, name)
        stored = repo.secrets if repo is not None else {}
        requests = repository_requests(sandbox)
        app_calls = len(sandbox.requests) - requests
        rejections = sum(sandbox.stats.secondary_rejections.values())
    table(
        ["figure", "value", "target"],
        [
            ("status", str(row["status"]), "ready"),
            (
                "secrets GitHub holds, right values",
                f"{sum(stored.get(k) == v for k, v in values.items())}",
                str(SECRETS),
            ),
            ("repository requests", str(requests), f"{3 + SECRETS} (3 + n)"),
            ("App calls (installation, token)", str(app_calls), ""),
            ("job runs deferred for the budget", str(kinds.count("deferred")), ""),
            ("attempts", str(row["attempts"]), "1"),
            ("secondary-limit rejections", str(rejections), "0"),
            ("ready after", f"{took:.1f} s", ""),
        ],
    )
    for event in events:
        print(f"  {event['at']:%H:%M:%S.%f}  {event['kind']:<16} {event['data']}"[:160])
    print(f"\n  {COMMAND}", flush=True)


def main() -> None:
    """Console entry point."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

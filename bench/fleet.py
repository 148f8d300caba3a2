"""What the GitHub-budget benchmarks share: a stack whose sandbox enforces GitHub's limits.

The in-thread sandbox counts what GitHub would: content-creating requests per
installation over sliding 60 s / 3600 s windows (80 / 500) and 100 requests in
flight, answering a secondary-limit 403 beyond them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg

from bench.common import wait_ready_in_db
from cli.harness import Stack, plain_dsn
from provisioner_client import ProjectsClient
from sandbox import GitHubSandbox
from sandbox.faults import Faults

__all__ = ["create_projects", "enforce_github_limits", "repository_requests", "wait_all_ready"]


def enforce_github_limits(sandbox: GitHubSandbox) -> None:
    """Switch on GitHub's secondary limits (80/min, 500/h, 100 in flight) and reset the stats."""
    limits = Faults.github_limits()
    sandbox.faults.secondary_limit_per_minute = limits.secondary_limit_per_minute
    sandbox.faults.secondary_limit_per_hour = limits.secondary_limit_per_hour
    sandbox.faults.max_concurrent_requests = limits.max_concurrent_requests
    sandbox.reset_stats()
    sandbox.reset_requests()


async def create_projects(
    stack: Stack, names: Sequence[str], secrets: Mapping[str, str], *, owners: int = 1
) -> list[UUID]:
    """Create the projects through the API as fast as it takes them, round the ``owners``
    (each owner may create 30 a minute: ``API_CREATES_PER_OWNER_PER_MINUTE``)."""
    clients = [
        ProjectsClient(stack.api_url, await stack.token("user", f"bench-{n}"))
        for n in range(owners)
    ]
    try:
        created = [
            await clients[i % owners].create(name, secrets=dict(secrets))
            for i, name in enumerate(names)
        ]
    finally:
        for client in clients:
            await client.aclose()
    return [UUID(p["id"]) for p in created]


async def wait_all_ready(stack: Stack, ids: Sequence[UUID], timeout_s: float) -> float:
    """Wait until every project is ready (read from PostgreSQL); returns the seconds it took."""
    started = time.monotonic()
    connection = await asyncpg.connect(plain_dsn(stack.database_url))
    try:
        left = timeout_s
        for project_id in ids:
            await wait_ready_in_db(connection, project_id, every_s=0.05, timeout_s=left)
            left = max(1.0, timeout_s - (time.monotonic() - started))
    finally:
        await connection.close()
    return time.monotonic() - started


def repository_requests(sandbox: GitHubSandbox) -> int:
    """Requests about repositories (creating, files, secrets), not the App's own calls
    (finding the installation, minting a token)."""
    return sum(1 for r in sandbox.requests if not _app_call(r.path))


def _app_call(path: str) -> bool:
    return path.startswith("/app") or (path.startswith("/orgs/") and path.endswith("/installation"))


async def settle() -> None:
    """Let the last answers reach the workers before the stack stops."""
    await asyncio.sleep(0.2)

"""GitHub requests per project with a warm (cached) token, counted by the sandbox.

Both paths against one in-process sandbox (no latency), one after the other
(the idle worker sends GitHub nothing while the first runs):

* ``Provisioner`` directly: one ``GitHubClient`` in this process, token minted
  first, then ``Provisioner.provision(...)`` per project;
* the real worker path: API and worker child processes, ``POST /api/projects/``,
  ready read from PostgreSQL; one warm-up project first (it also pays for
  finding the installation and minting the token, printed separately).

Each count is next to the minimum the design allows: create, PUT
``.project.yaml``, GET the secrets public key, one PUT per secret (2 without
secrets: no key is needed).

    python -m bench.requests_per_project
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections import Counter
from collections.abc import Sequence
from uuid import uuid4

import asyncpg
from pydantic import SecretStr

from bench.common import REDIS_URL, header, quiet_logs, table, wait_ready_in_db
from cli.harness import Stack, plain_dsn, running_stack
from provisioner_client import ProjectsClient
from sandbox import GitHubSandbox
from sandbox.models import RequestRecord
from shared.github.client import GitHubClient
from shared.provisioning.repo_name import repository_name
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import ProjectSpec

__all__ = ["main", "minimum", "run"]

COMMAND = "python -m bench.requests_per_project"
SECRET_COUNTS = (0, 1, 3)
REPEATS = 3
TIME_LIMIT_S = 90

_SHAPES = [
    (re.compile(r"^/orgs/[^/]+/repos$"), "create"),
    (re.compile(r"/contents/"), "contents"),
    (re.compile(r"/actions/secrets/public-key$"), "public-key"),
    (re.compile(r"/actions/secrets/[^/]+$"), "secret"),
    (re.compile(r"/access_tokens$"), "token"),
    (re.compile(r"/installation$"), "installation"),
]


def minimum(secret_count: int) -> int:
    """The fewest requests the design allows: create + file (+ key + one per secret)."""
    return 2 if secret_count == 0 else 3 + secret_count


def _secrets(count: int) -> dict[str, str]:
    return {f"SECRET_{i}": "v-" + secrets.token_hex(8) for i in range(count)}


def _shape(records: Sequence[RequestRecord]) -> str:
    """``POST create, PUT contents, ...`` with repeats collapsed as ``×n``."""
    seen: Counter[str] = Counter()
    order: list[str] = []
    for record in records:
        kind = next((k for pattern, k in _SHAPES if pattern.search(record.path)), record.path)
        key = f"{record.method} {kind}"
        if key not in seen:
            order.append(key)
        seen[key] += 1
    return ", ".join(f"{k}×{seen[k]}" if seen[k] > 1 else k for k in order)


def _span(counts: Sequence[int]) -> str:
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"


async def _direct(stack: Stack, run_id: str) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Counts per secret count through ``Provisioner.provision`` in this process."""
    sandbox = stack.sandbox
    counts: dict[int, list[int]] = {n: [] for n in SECRET_COUNTS}
    shapes: dict[int, str] = {}
    async with GitHubClient(stack.github_settings().app) as github:
        provisioner = Provisioner(github)
        await github.installation_token()  # warm: installation found, token cached
        for n in SECRET_COUNTS:
            for i in range(REPEATS):
                values = _secrets(n)
                name = f"bench rpp {run_id} direct {n} {i}"
                spec = ProjectSpec(
                    id=uuid4(),
                    display_name=name,
                    repo_name=repository_name(name),
                    secret_names=sorted(values),
                )
                sandbox.reset_requests()
                await provisioner.provision(spec, {k: SecretStr(v) for k, v in values.items()})
                counts[n].append(sandbox.count())
                shapes[n] = _shape(sandbox.requests)
    return counts, shapes


async def _worker_path(
    stack: Stack, run_id: str
) -> tuple[dict[int, list[int]], dict[int, str], int, str]:
    """Counts per secret count through API + worker processes; also the cold first project."""
    sandbox = stack.sandbox
    counts: dict[int, list[int]] = {n: [] for n in SECRET_COUNTS}
    shapes: dict[int, str] = {}
    connection = await asyncpg.connect(plain_dsn(stack.database_url))
    try:
        async with ProjectsClient(stack.api_url, await stack.token("user", "bench")) as client:

            async def one(name: str, secret_count: int) -> list[RequestRecord]:
                sandbox.reset_requests()
                created = await client.create(name, secrets=_secrets(secret_count) or None)
                await wait_ready_in_db(connection, created["id"])
                return sandbox.requests

            cold = await one(f"bench rpp {run_id} cold", 1)
            for n in SECRET_COUNTS:
                for i in range(REPEATS):
                    records = await one(f"bench rpp {run_id} worker {n} {i}", n)
                    counts[n].append(len(records))
                    shapes[n] = _shape(records)
    finally:
        await connection.close()
    return counts, shapes, len(cold), _shape(cold)


def _check(sandbox: GitHubSandbox) -> None:
    if sandbox.spec_violations:
        print(f"WARNING: requests GitHub's OpenAPI description rejects: {sandbox.spec_violations}")


async def run() -> None:
    """Both paths, then one table."""
    header("GitHub requests per project (warm token), counted by the sandbox", COMMAND)
    quiet_logs()
    run_id = secrets.token_hex(3)
    async with (
        asyncio.timeout(TIME_LIMIT_S),
        running_stack("bench_rpp", redis_url=REDIS_URL) as stack,
    ):
        direct, direct_shapes = await _direct(stack, run_id)
        worker, worker_shapes, cold, cold_shape = await _worker_path(stack, run_id)
        _check(stack.sandbox)
    print(f"{REPEATS} projects per row and path; a range means the runs differed")
    rows: list[list[object]] = []
    for n in SECRET_COUNTS:
        extra = "" if direct_shapes[n] == worker_shapes[n] else f" | worker: {worker_shapes[n]}"
        rows.append([n, minimum(n), _span(direct[n]), _span(worker[n]), direct_shapes[n] + extra])
    table(
        ["secrets", "minimum", "Provisioner directly", "API + worker", "requests (direct)"],
        rows,
        align="rrrrl",
    )
    over = [n for n in SECRET_COUNTS if max(direct[n] + worker[n]) > minimum(n)]
    print(
        "every count is at the minimum" if not over else f"ABOVE the minimum for {over} secret(s)"
    )
    print(f"first project after the worker started (cold, 1 secret): {cold} requests: {cold_shape}")


def main() -> None:
    """Entry point of ``python -m bench.requests_per_project``."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

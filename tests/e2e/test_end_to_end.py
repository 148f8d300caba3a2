"""End to end over real HTTP: separate API and worker processes, the sandbox, PostgreSQL, Redis.

Also the leak test: a canary secret value must appear nowhere but in the
sandbox's decrypted secrets: not in logs, API responses, Redis, the database
tables, nor ``.project.yaml``.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import text

from provisioner_client import ProjectsClient
from shared.db.engine import create_engine
from shared.provisioning.project_file import PROJECT_FILE_PATH, project_id_in
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

CANARY = "canary-" + secrets.token_hex(12)


@dataclass
class Seen:
    """What the test saw of the running system."""

    stack: Stack
    user_token: str
    responses: list[str] = field(default_factory=list)


stack = module_stack("e2e", redis_db=12)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seen(stack: Stack) -> Seen:
    return Seen(stack, await stack.token("user", "e2e-user"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ready_project(seen: Seen) -> dict[str, Any]:
    stack = seen.stack
    async with ProjectsClient(stack.api_url, seen.user_token) as client:
        created = await client.create(
            "End to end", description="e2e", config={"secrets": {"DEPLOY_KEY": CANARY}}
        )
        seen.responses.append(repr(created))
        project = await client.wait_until_ready(created["id"], timeout_s=60, poll_s=0.05)
        seen.responses.append(repr(project))
        seen.responses.append(repr(await client.events(created["id"])))
        seen.responses.append(repr(await client.list()))
    return project


async def test_post_to_ready_over_real_processes(seen: Seen, ready_project: dict[str, Any]) -> None:
    stack = seen.stack
    assert ready_project["status"] == "ready"
    info = ready_project["repo_info"]
    assert info["full_name"] == f"{ORG}/end-to-end"
    assert ready_project["secrets"] == [{"name": "DEPLOY_KEY", "state": "set"}]
    repos = stack.sandbox.repositories
    assert [r.full_name for r in repos] == [f"{ORG}/end-to-end"]
    assert project_id_in(repos[0].files[PROJECT_FILE_PATH]) == ready_project["id"]
    assert repos[0].secrets == {"DEPLOY_KEY": CANARY}


async def test_canary_secret_leaks_nowhere(seen: Seen, ready_project: dict[str, Any]) -> None:
    stack = seen.stack
    places: dict[str, str] = {}
    places["api responses"] = "\n".join(seen.responses)
    for name in ("api", "worker"):
        places[f"{name} log"] = stack.children.log_path(name).read_text(errors="replace")
    assert "job.ready" in places["worker log"]  # the logs are really there, at DEBUG
    redis = Redis.from_url(stack.redis_url)  # this run's keys and other runs' alike
    dumped = []
    async for key in redis.scan_iter():
        dumped.append(repr(await redis.dump(key)))
    await redis.aclose()
    places["redis"] = "\n".join(dumped)
    engine = create_engine(stack.database_url)
    async with engine.connect() as connection:
        for table in ("projects", "project_events", "project_secrets", "api_tokens"):
            rows = await connection.execute(text(f"SELECT * FROM {table}"))
            places[f"table {table}"] = "\n".join(repr(tuple(row)) for row in rows)
    await engine.dispose()
    repo = stack.sandbox.repositories[0]
    places[".project.yaml"] = repo.files[PROJECT_FILE_PATH].decode()
    leaked = [where for where, content in places.items() if CANARY in content]
    assert leaked == []
    assert "DEPLOY_KEY" in places[".project.yaml"]  # the name is there, the value is not


async def test_worker_liveness_probe(seen: Seen) -> None:
    env = seen.stack.env
    probe = [sys.executable, "-m", "cli.main", "worker", "--check"]
    for _ in range(100):  # the worker writes its health record on its first poll
        process = await asyncio.create_subprocess_exec(
            *probe, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = (await process.communicate())[0].decode()
        if process.returncode == 0:
            break
        await asyncio.sleep(0.1)
    assert process.returncode == 0, output
    assert "j_complete" in output  # arq's record: jobs completed, failed, retried, ongoing


async def test_sigterm_lets_the_running_job_finish(seen: Seen) -> None:
    """Last in the module: it stops the worker."""
    stack = seen.stack
    stack.sandbox.faults.latency_s = 0.4
    try:
        async with ProjectsClient(stack.api_url, seen.user_token) as client:
            created = await client.create("Graceful shutdown", secrets={"K": "v"})
            project, etag = await client.wait_for_change(created["id"], wait_s=0)
            while project is None or project["status"] != "provisioning":
                project, etag = await client.wait_for_change(created["id"], wait_s=10, etag=etag)
            # SIGTERM in the middle of the job's GitHub calls; returns once the worker exited
            await asyncio.to_thread(stack.children.stop, "worker")
            finished = await client.get(created["id"])
    finally:
        stack.sandbox.faults.latency_s = 0
    assert finished["status"] == "ready"
    assert "worker.stopped" in stack.children.log_path("worker").read_text()

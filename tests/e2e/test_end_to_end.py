"""End to end over real HTTP: separate API and worker processes, the sandbox, PostgreSQL, Redis.

Also the leak test: a canary secret value must appear nowhere but in the
sandbox's decrypted secrets: not in logs, API responses, Redis, the database
tables, nor ``.project.yaml``.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from redis.asyncio import Redis
from sqlalchemy import text

from cli.processes import Children, free_port, wait_until_up
from sandbox import GitHubSandbox
from sandbox.server import serve_in_thread
from shared.crypto import generate_secrets_key, hash_api_token, new_api_token
from shared.db.engine import create_engine, create_sessionmaker, session_scope
from shared.projects import repository
from shared.projects_client import ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH, project_id_in
from tests.github_fixtures import APP_ID, ORG

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

REDIS_URL = "redis://127.0.0.1:6379/12"
CANARY = "canary-" + secrets.token_hex(12)


@dataclass
class Stack:
    """The running system and what the test saw of it."""

    api_url: str
    sandbox: GitHubSandbox
    children: Children
    database_url: str
    user_token: str
    responses: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def stack_env(
    database_url: str, app_key_pem: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path, GitHubSandbox]]:
    """Environment for the child processes, pointed at an in-process sandbox."""
    from cryptography.hazmat.primitives import serialization

    workdir = tmp_path_factory.mktemp("e2e")
    key_path = workdir / "app.pem"
    key_path.write_bytes(app_key_pem)
    key = serialization.load_pem_private_key(app_key_pem, password=None)
    assert isinstance(key, RSAPrivateKey)
    sandbox = GitHubSandbox(APP_ID, key.public_key())
    sandbox.add_installation(ORG)
    with serve_in_thread(sandbox) as sandbox_url:
        env = {
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "QUEUE_NAME": f"e2e:{secrets.token_hex(4)}",
            "SECRETS_KEY": generate_secrets_key(),
            "GITHUB_API_URL": sandbox_url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key_path),
            "WORKER_GITHUB_WRITE_INTERVAL_S": "0",
            "LOG_LEVEL": "DEBUG",
        }
        yield env, workdir, sandbox
    assert sandbox.spec_violations == []


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    stack_env: tuple[dict[str, str], Path, GitHubSandbox], database_url: str
) -> AsyncIterator[Stack]:
    env, workdir, sandbox = stack_env
    port = free_port()
    with Children(workdir, announce=False) as children:
        children.start("api", [sys.executable, "-m", "cli.main", "api", "--port", str(port)], env)
        children.start("worker", [sys.executable, "-m", "cli.main", "worker"], env)
        api_url = f"http://127.0.0.1:{port}"
        await wait_until_up(f"{api_url}/readyz", children)
        token = new_api_token()
        engine = create_engine(database_url)
        async with session_scope(create_sessionmaker(engine)) as session:
            await repository.insert_token(session, hash_api_token(token), "user", "e2e-user")
        await engine.dispose()
        yield Stack(api_url, sandbox, children, database_url, token)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ready_project(stack: Stack) -> dict[str, Any]:
    async with ProjectsClient(stack.api_url, stack.user_token) as client:
        created = await client.create(
            "End to end", description="e2e", config={"secrets": {"DEPLOY_KEY": CANARY}}
        )
        stack.responses.append(repr(created))
        project = await client.wait_until_ready(created["id"], timeout_s=60, poll_s=0.05)
        stack.responses.append(repr(project))
        stack.responses.append(repr(await client.events(created["id"])))
        stack.responses.append(repr(await client.list()))
    return project


async def test_post_to_ready_over_real_processes(
    stack: Stack, ready_project: dict[str, Any]
) -> None:
    assert ready_project["status"] == "ready"
    info = ready_project["repo_info"]
    assert info["full_name"] == f"{ORG}/end-to-end"
    assert ready_project["secrets"] == [{"name": "DEPLOY_KEY", "state": "set"}]
    repos = stack.sandbox.repositories
    assert [r.full_name for r in repos] == [f"{ORG}/end-to-end"]
    assert project_id_in(repos[0].files[PROJECT_FILE_PATH]) == ready_project["id"]
    assert repos[0].secrets == {"DEPLOY_KEY": CANARY}


async def test_canary_secret_leaks_nowhere(stack: Stack, ready_project: dict[str, Any]) -> None:
    places: dict[str, str] = {}
    places["api responses"] = "\n".join(stack.responses)
    for name in ("api", "worker"):
        places[f"{name} log"] = stack.children.log_path(name).read_text(errors="replace")
    assert "job.ready" in places["worker log"]  # the logs are really there, at DEBUG
    redis = Redis.from_url(REDIS_URL)
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

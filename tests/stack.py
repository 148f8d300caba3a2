"""A whole running system for end-to-end tests: API and worker processes, the sandbox in-process.

The sandbox runs in this process (over loopback HTTP) so tests can inspect
its state and inject faults; the API and the worker are real child processes.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from redis.asyncio import Redis

from cli.processes import Children, free_port, wait_until_up
from sandbox import GitHubSandbox
from sandbox.server import serve_in_thread
from shared.auth.service import issue_api_token
from shared.crypto import generate_secrets_key
from tests.github_fixtures import APP_ID, ORG, Clock

__all__ = ["Stack", "module_stack", "running_stack"]


@dataclass
class Stack:
    """The running system."""

    api_url: str
    api_port: int
    sandbox: GitHubSandbox
    clock: Clock
    children: Children
    env: dict[str, str]
    database_url: str

    async def token(self, role: str, subject: str) -> str:
        """A new API token, stored hashed."""
        return await issue_api_token(self.database_url, role=role, subject=subject)

    def start_api(self) -> None:
        """Start the API process (again) on its port."""
        args = [sys.executable, "-m", "cli.main", "api", "--port", str(self.api_port)]
        self.children.start("api", args, self.env)

    def start_worker(self) -> None:
        """Start a worker process (again)."""
        self.children.start("worker", [sys.executable, "-m", "cli.main", "worker"], self.env)

    async def restart_api(self) -> None:
        """Stop the API process and start a new one on the same port."""
        self.children.stop("api")
        self.start_api()
        await wait_until_up(f"{self.api_url}/readyz", self.children)


@asynccontextmanager
async def running_stack(
    *, database_url: str, app_key_pem: bytes, workdir: Path, redis_url: str, **env: str
) -> AsyncIterator[Stack]:
    """Sandbox, API and worker, up and answering; everything stopped afterwards."""
    key_path = workdir / "app.pem"
    key_path.write_bytes(app_key_pem)
    key = serialization.load_pem_private_key(app_key_pem, password=None)
    assert isinstance(key, RSAPrivateKey)
    clock = Clock()
    sandbox = GitHubSandbox(APP_ID, key.public_key(), clock=clock)
    sandbox.add_installation(ORG)
    with serve_in_thread(sandbox) as sandbox_url:
        environment = {
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "QUEUE_NAME": f"stack:{secrets.token_hex(4)}",
            "SECRETS_KEY": generate_secrets_key(),
            "GITHUB_API_URL": sandbox_url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key_path),
            "WORKER_GITHUB_WRITE_INTERVAL_S": "0",
            "LOG_LEVEL": "DEBUG",
            **env,
        }
        port = free_port()
        with Children(workdir, announce=False) as children:
            stack = Stack(
                api_url=f"http://127.0.0.1:{port}",
                api_port=port,
                sandbox=sandbox,
                clock=clock,
                children=children,
                env=environment,
                database_url=database_url,
            )
            stack.start_api()
            stack.start_worker()
            await wait_until_up(f"{stack.api_url}/readyz", children)
            try:
                yield stack
            finally:
                redis = Redis.from_url(redis_url)
                await redis.flushdb()
                await redis.aclose()
    assert sandbox.spec_violations == []


def module_stack(name: str, *, redis_db: int, **env: str) -> Any:
    """A module-scoped ``stack`` fixture: its own database, Redis db ``redis_db`` and ``env``."""

    @pytest_asyncio.fixture(scope="module", loop_scope="module", name="stack")
    async def stack_fixture(
        module_database_url: str, app_key_pem: bytes, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[Stack]:
        async with running_stack(
            database_url=module_database_url,
            app_key_pem=app_key_pem,
            workdir=tmp_path_factory.mktemp(name),
            redis_url=f"redis://127.0.0.1:6379/{redis_db}",
            **env,
        ) as running:
            yield running

    return stack_fixture

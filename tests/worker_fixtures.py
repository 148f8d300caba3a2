"""A real arq worker against real Redis and PostgreSQL, provisioning into the sandbox."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox import GitHubSandbox
from shared.crypto import SecretsCipher, generate_secrets_key
from shared.db.engine import session_scope
from shared.fair_queue import fair_queue
from shared.github.client import GitHubClient
from shared.jobs import open_queue
from shared.projects import lifecycle, repository
from shared.projects.models import Project
from shared.provisioning.repo_name import repository_name
from shared.provisioning.steps import Provisioner
from shared.settings import RedisSettings, WorkerSettings
from tests.github_fixtures import no_sleep
from tests.redis_urls import redis_url
from worker.context import WorkerState
from worker.main import build_worker

TEST_REDIS_URL = redis_url(11)
"""Worker tests flush Redis: they get a database of their own."""


@dataclass
class WorkerHarness:
    """Creates projects, runs the worker until the queue is empty, reads results."""

    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    queue_settings: RedisSettings
    state: WorkerState
    cipher: SecretsCipher

    async def create(
        self, name: str = "Тестовый бот", secrets: dict[str, str] | None = None, **fields: Any
    ) -> UUID:
        """Store a project as the API would, and enqueue its job after the commit."""
        secrets = secrets if secrets is not None else {"API_KEY": "canary-value"}
        async with session_scope(self.sessionmaker) as session:
            project = await lifecycle.accept(
                session,
                id=uuid4(),
                name=name,
                repo_name=repository_name(name),
                description=fields.get("description", "A bot"),
                config=fields.get("config", {"language": "python"}),
                owner=fields.get("owner", "alice"),
                secrets_ciphertexts={k: self.cipher.encrypt(v) for k, v in secrets.items()},
                idempotency_key=None,
                request_fingerprint=None,
            )
            project_id, generation = project.id, project.generation
        await self.state.fair.submit(project_id, generation, fields.get("owner", "alice"))
        return project_id

    async def run(self, **overrides: Any) -> None:
        """Run a burst worker until every job, deferred ones included, is done."""
        worker = build_worker(
            self.state.config,
            self.queue_settings,
            lambda: nullcontext(self.state),
            burst=True,
            poll_delay=0.01,
            handle_signals=False,
            **overrides,
        )
        try:
            await worker.main()
        finally:
            await worker.close()

    async def project(self, project_id: UUID) -> Project:
        async with session_scope(self.sessionmaker) as session:
            project = await repository.get_project(session, project_id)
            assert project is not None
            return project

    async def events(self, project_id: UUID) -> list[str]:
        async with session_scope(self.sessionmaker) as session:
            return [e.kind for e in await repository.list_events(session, project_id, limit=100)]

    async def event_data(self, project_id: UUID, kind: str) -> list[dict[str, Any]]:
        async with session_scope(self.sessionmaker) as session:
            events = await repository.list_events(session, project_id, limit=100)
            return [e.data for e in events if e.kind == kind]

    async def secret_rows(self, project_id: UUID) -> dict[str, tuple[str, bytes | None]]:
        from sqlalchemy import text

        async with session_scope(self.sessionmaker) as session:
            rows = await session.execute(
                text("SELECT name, state, ciphertext FROM project_secrets WHERE project_id = :p"),
                {"p": project_id},
            )
            return {name: (state, ct) for name, state, ct in rows}


@pytest.fixture
async def harness(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github: GitHubClient,
    github_sandbox: GitHubSandbox,
) -> AsyncIterator[WorkerHarness]:
    """Fast backoff, no write spacing, the sandbox's post-creation delay waited out instantly."""
    queue_settings = RedisSettings(url=TEST_REDIS_URL, queue_name=f"test:{secrets.token_hex(4)}")
    queue = await open_queue(queue_settings)
    cipher = SecretsCipher.from_base64(generate_secrets_key())
    config = WorkerSettings(
        retry_for_s=5.0, backoff_base_s=0.01, backoff_cap_s=0.02, sweep_grace_s=0,
    )  # fmt: skip
    state = WorkerState(
        config=config,
        sessionmaker=db_sessionmaker,
        github=github,
        provisioner=Provisioner(github, sleep=no_sleep, visibility_delays_s=(0, 0)),
        cipher=cipher,
        fair=fair_queue(queue, queue_settings),
    )
    try:
        yield WorkerHarness(db_sessionmaker, queue, queue_settings, state, cipher)
    finally:
        await queue.flushdb()
        await queue.aclose()

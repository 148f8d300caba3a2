"""Abuse limits: creates per minute and active projects per owner, mints per project,
long polls per process, and refused tokens cached."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import Resources
from sandbox import GitHubSandbox
from shared.crypto import SecretsCipher
from shared.github.client import GitHubClient
from shared.projects.repo_tokens import RepoTokenMinter
from shared.rate_limits import AbuseLimits, RateLimiter
from shared.settings import DEFAULT_AGENT_PERMISSIONS
from tests.api.helpers import bearer, body, make_failed, make_ready, row_counts
from tests.api_fixtures import ApiTokens, app_serving, resources_for
from tests.db.helpers import FakeRepo
from tests.github_fixtures import ORG

pytestmark = pytest.mark.integration

MakeClient = Callable[..., Any]


@pytest.fixture
def serve(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
) -> MakeClient:
    """Serve the API with the given limits (a limiter on this test's own Redis keys)."""

    @asynccontextmanager
    async def client(
        limits: AbuseLimits, **others: Any
    ) -> AsyncIterator[tuple[httpx.AsyncClient, Resources]]:
        limiter = RateLimiter(api_queue, prefix=f"provisioner-test:rate:{uuid.uuid4().hex}")
        resources = resources_for(
            db_sessionmaker, api_queue, api_cipher, limits=limits, limiter=limiter, **others
        )
        app = app_serving(resources)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
                yield http, resources

    return client


async def _create(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/api/projects/", json=body(), headers=bearer(token))


async def test_31st_create_in_a_minute_is_429_with_retry_after_and_stores_nothing(
    serve: MakeClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(AbuseLimits()) as (http, _):
        answers = [await _create(http, api_tokens.alice) for _ in range(30)]
        assert [a.status_code for a in answers] == [202] * 30
        refused = await _create(http, api_tokens.alice)
        others = await _create(http, api_tokens.bob)

    assert refused.status_code == 429, refused.text
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert others.status_code == 202  # per owner
    assert await row_counts(db_sessionmaker) == (31, 0)


async def test_a_replay_is_answered_beyond_the_rate_limit(
    serve: MakeClient, api_tokens: ApiTokens
) -> None:
    async with serve(AbuseLimits(creates_per_owner_per_minute=1)) as (http, _):
        payload, key = body(), {"Idempotency-Key": "k-1"}
        first = await http.post(
            "/api/projects/", json=payload, headers=bearer(api_tokens.alice) | key
        )
        again = await http.post(
            "/api/projects/", json=payload, headers=bearer(api_tokens.alice) | key
        )
        fresh = await _create(http, api_tokens.alice)
    assert (first.status_code, again.status_code, fresh.status_code) == (202, 202, 429)
    assert again.json()["id"] == first.json()["id"]


async def test_active_projects_per_owner_are_capped_even_when_created_at_once(
    serve: MakeClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(AbuseLimits(active_projects_per_owner=3)) as (http, _):
        answers = await asyncio.gather(*(_create(http, api_tokens.alice) for _ in range(8)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [202] * 3 + [429] * 5
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["error"] == "too_many_projects"
        assert "Retry-After" in refused.headers
        assert (await _create(http, api_tokens.bob)).status_code == 202

        failed = next(a for a in answers if a.status_code == 202).json()["id"]
        await make_failed(db_sessionmaker, uuid.UUID(failed))  # repo_failed ones do not count
        assert (await _create(http, api_tokens.alice)).status_code == 202
        assert (await _create(http, api_tokens.alice)).status_code == 429
    assert await row_counts(db_sessionmaker) == (5, 0)


async def test_token_mints_per_project_are_capped(
    serve: MakeClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github: GitHubClient,
    github_sandbox: GitHubSandbox,
) -> None:
    made = github_sandbox.add_repository(ORG, FakeRepo.full_name.split("/")[1])
    minter = RepoTokenMinter(github, DEFAULT_AGENT_PERMISSIONS)
    limits = AbuseLimits(token_mints_per_project_per_minute=2)
    async with serve(limits, tokens=minter) as (http, _):
        project_id = (await _create(http, api_tokens.alice)).json()["id"]
        await make_ready(db_sessionmaker, uuid.UUID(project_id), FakeRepo(id=made.id))
        url = f"/api/projects/{project_id}/token"
        answers = [await http.post(url, headers=bearer(api_tokens.alice)) for _ in range(3)]
        by_service = await http.post(url, headers=bearer(api_tokens.service))

    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    assert by_service.status_code == 429  # per project, whoever asks


async def _until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_long_polls_beyond_the_cap_are_503_with_retry_after(
    serve: MakeClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with serve(AbuseLimits(max_long_polls=1)) as (http, resources):
        created = await _create(http, api_tokens.alice)
        url, etag = f"/api/projects/{created.json()['id']}", created.headers["ETag"]
        waiting = {"If-None-Match": etag} | bearer(api_tokens.alice)
        first = asyncio.create_task(http.get(url, params={"wait": 30}, headers=waiting))
        await _until(lambda: resources.long_polls.active == 1)

        refused = await http.get(url, params={"wait": 30}, headers=waiting)
        plain = await http.get(url, headers=bearer(api_tokens.alice))  # no wait: not capped
        await make_failed(db_sessionmaker, uuid.UUID(created.json()["id"]))
        answered = await asyncio.wait_for(first, 10)
        after = await http.get(url, params={"wait": 1}, headers=bearer(api_tokens.alice))

    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "too_many_long_polls"
    assert int(refused.headers["Retry-After"]) >= 1
    assert plain.status_code == 200
    assert answered.status_code == 200 and answered.json()["status"] == "repo_failed"
    assert after.status_code == 200  # the slot was given back
    assert resources.long_polls.active == 0


async def test_a_flood_of_one_unknown_token_costs_one_query(
    serve: MakeClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "api_tokens" in statement:
            statements.append(statement)

    engine = db_sessionmaker.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with serve(AbuseLimits()) as (http, _):
            flood: list[Awaitable[httpx.Response]] = [
                http.get("/api/projects", headers=bearer("prv_not-a-token-we-know"))
                for _ in range(50)
            ]
            first = await flood[0]
            rest = await asyncio.gather(*flood[1:])
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert {a.status_code for a in [first, *rest]} == {401}
    assert len(statements) == 1, statements

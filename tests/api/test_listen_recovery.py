"""The change listener recovers: a killed LISTEN connection comes back and long polls still
wake on the next transition; while it is down, one shared poll stands in for all waiters."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.changes import ProjectChanges
from shared.crypto import SecretsCipher
from tests.api.helpers import bearer, body, make_failed
from tests.api_fixtures import ApiTokens, app_serving, resources_for

pytestmark = pytest.mark.integration


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> float:
    """Seconds until ``condition()`` held (fails after ``timeout_s``)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "condition not met in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


@asynccontextmanager
async def _serving(
    changes: ProjectChanges,
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    cipher: SecretsCipher,
) -> AsyncIterator[httpx.AsyncClient]:
    await changes.start()
    try:
        app = app_serving(resources_for(sessionmaker, queue, cipher, changes=changes))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
                yield http
    finally:
        await changes.stop()


async def _long_poll(
    http: httpx.AsyncClient, token: str, project: httpx.Response
) -> asyncio.Task[httpx.Response]:
    url = f"/api/projects/{project.json()['id']}"
    headers = bearer(token) | {"If-None-Match": project.headers["ETag"]}
    return asyncio.create_task(http.get(url, params={"wait": 30}, headers=headers))


async def test_long_polls_wake_after_the_listener_backend_is_terminated(
    database_url: str,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
    api_tokens: ApiTokens,
) -> None:
    name = f"test-listen-{uuid.uuid4().hex[:12]}"
    changes = ProjectChanges(
        database_url,
        sessionmaker=db_sessionmaker,
        application_name=name,
        fallback_every_s=30,  # the wake-up below must come from LISTEN, not the fallback
    )
    async with _serving(changes, db_sessionmaker, api_queue, api_cipher) as http:
        assert changes.listening
        created = await http.post("/api/projects/", json=body(), headers=bearer(api_tokens.alice))
        waiter = await _long_poll(http, api_tokens.alice, created)
        await _until(lambda: changes.waiting == 1)

        async with db_sessionmaker() as session:
            killed = await session.scalar(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": name},
            )
        assert killed == 1
        recovered_in = await _until(lambda: changes.connections == 2 and changes.listening)
        print(f"listener recovered in {recovered_in:.3f} s")
        assert not waiter.done()  # woken to re-read, nothing changed: still waiting

        notified = changes.notifications
        await make_failed(db_sessionmaker, uuid.UUID(created.json()["id"]))
        answered = await asyncio.wait_for(waiter, 5)
    assert answered.status_code == 200
    assert answered.json()["status"] == "repo_failed"
    assert changes.notifications > notified
    assert recovered_in < 2


async def test_without_the_listener_one_shared_poll_wakes_every_waiter(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
    api_tokens: ApiTokens,
) -> None:
    # Nothing listens on port 1: the listener never connects, the fallback does the work.
    changes = ProjectChanges(
        "postgresql+asyncpg://postgres@127.0.0.1:1/none",
        sessionmaker=db_sessionmaker,
        fallback_every_s=0.2,
        max_backoff_s=0.5,
    )
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    async with _serving(changes, db_sessionmaker, api_queue, api_cipher) as http:
        assert not changes.listening
        projects = [
            await http.post("/api/projects/", json=body(), headers=bearer(api_tokens.alice))
            for _ in range(2)
        ]
        waiters = [await _long_poll(http, api_tokens.alice, p) for p in projects for _ in range(20)]
        await _until(lambda: changes.waiting == 40)
        polls = changes.fallback_polls
        await _until(lambda: changes.fallback_polls >= polls + 2)  # a quiet, full interval

        engine = db_sessionmaker.kw["bind"].sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            polls = changes.fallback_polls
            await _until(lambda: changes.fallback_polls >= polls + 5)
            quiet = [s for s in statements if "FROM projects" in s]
            await make_failed(db_sessionmaker, uuid.UUID(projects[0].json()["id"]))
            answered = await asyncio.gather(*(asyncio.wait_for(w, 5) for w in waiters[:20]))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert not any(w.done() for w in waiters[20:])
        for waiter in waiters[20:]:
            waiter.cancel()
        await asyncio.gather(*waiters[20:], return_exceptions=True)
    # 40 waiters, 5+ intervals: about one version query per interval, no read per waiter.
    assert len(quiet) <= 7, quiet
    assert all(a.status_code == 200 and a.json()["status"] == "repo_failed" for a in answered)

"""The API on the real PostgreSQL and Redis, called in-process through ``httpx.ASGITransport``.

Each test gets its own arq queue name, so concurrent runs never share a
queue; its keys are deleted afterwards. Rows are really committed (through
``db_sessionmaker``) and truncated after the test.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from fastapi import FastAPI
from redis.asyncio import ConnectionPool
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.deps import Resources
from shared.auth import repository as token_repository
from shared.auth.models import ApiToken, TokenRole
from shared.crypto import SecretsCipher, hash_api_token, new_api_token
from shared.fair_queue import fair_queue
from shared.jobs import deserialize, open_queue, serialize
from shared.settings import RedisSettings
from tests.redis_urls import redis_url

_REDIS_URL = os.environ.get("TEST_REDIS_URL", redis_url(0))


@dataclass(frozen=True)
class ApiTokens:
    """Plaintext tokens for each kind of caller (stored hashed)."""

    alice: str
    bob: str
    ops: str
    service: str
    revoked: str


@pytest.fixture
def api_queue_settings() -> RedisSettings:
    """A queue of this test's own on the real Redis."""
    return RedisSettings(url=_REDIS_URL, queue_name=f"provisioner-test:{uuid.uuid4().hex}")


@pytest.fixture
async def api_queue(api_queue_settings: RedisSettings) -> AsyncIterator[ArqRedis]:
    """An arq pool on the test's queue; its jobs are deleted after the test."""
    queue = await open_queue(api_queue_settings)
    try:
        yield queue
    finally:
        job_ids = await queue.zrange(api_queue_settings.queue_name, 0, -1)
        keys = [api_queue_settings.queue_name]
        for raw in job_ids:
            job_id = raw.decode()
            keys += [f"arq:job:{job_id}", f"arq:result:{job_id}", f"arq:retry:{job_id}"]
        await queue.delete(*keys)
        await queue.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def api_dead_queue(api_queue_settings: RedisSettings) -> AsyncIterator[ArqRedis]:
    """An arq pool pointed at a port nothing listens on: Redis is down."""
    pool = ConnectionPool(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=0.5)
    queue = ArqRedis(
        pool,
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=api_queue_settings.queue_name,
    )
    try:
        yield queue
    finally:
        await queue.aclose()
        await pool.aclose()


@pytest.fixture
def api_cipher() -> SecretsCipher:
    """A cipher with a random key."""
    return SecretsCipher(os.urandom(32))


def app_serving(resources: Resources) -> FastAPI:
    """The app serving with the test's own ``resources`` (which the test closes)."""
    return create_app(lambda: nullcontext(resources))


def resources_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    cipher: SecretsCipher,
    **others: Any,
) -> Resources:
    """API resources on the test's database session factory, queue and cipher."""
    engine = sessionmaker.kw["bind"]
    fair = fair_queue(queue, RedisSettings(queue_name=queue.default_queue_name))
    return Resources(engine, sessionmaker, queue, fair, cipher, **others)


async def _app(
    sessionmaker: async_sessionmaker[AsyncSession], queue: ArqRedis, cipher: SecretsCipher
) -> AsyncIterator[FastAPI]:
    app = app_serving(resources_for(sessionmaker, queue, cipher))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def api_app(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
) -> AsyncIterator[FastAPI]:
    """The app on the test database and queue, its lifespan running."""
    async for app in _app(db_sessionmaker, api_queue, api_cipher):
        yield app


@pytest.fixture
async def api_client(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling :func:`api_app` in-process."""
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
async def api_client_redis_down(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_dead_queue: ArqRedis,
    api_cipher: SecretsCipher,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose Redis does not answer."""
    async for app in _app(db_sessionmaker, api_dead_queue, api_cipher):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


@pytest.fixture
async def api_tokens(db_sessionmaker: async_sessionmaker[AsyncSession]) -> ApiTokens:
    """Committed tokens: users alice and bob, ops, service, and a revoked user token."""
    tokens = ApiTokens(*(new_api_token() for _ in range(5)))
    async with db_sessionmaker() as session, session.begin():
        for token, role, subject in [
            (tokens.alice, TokenRole.USER, "alice"),
            (tokens.bob, TokenRole.USER, "bob"),
            (tokens.ops, TokenRole.OPS, "oscar-ops"),
            (tokens.service, TokenRole.SERVICE, "langgraph"),
            (tokens.revoked, TokenRole.USER, "alice"),
        ]:
            await token_repository.insert_token(session, hash_api_token(token), role, subject)
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_api_token(tokens.revoked))
            .values(revoked_at=datetime.now(UTC))
        )
    return tokens

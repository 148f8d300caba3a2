"""/healthz and /readyz, open to anyone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis

from shared.crypto import SecretsCipher
from shared.db.engine import create_engine, create_sessionmaker
from tests.api_fixtures import app_serving, resources_for


async def test_healthz(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_postgres_and_redis_answer(api_client: httpx.AsyncClient) -> None:
    response = await api_client.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_names_redis_when_it_is_down(
    api_client_redis_down: httpx.AsyncClient,
) -> None:
    response = await api_client_redis_down.get("/readyz")

    assert response.status_code == 503
    assert response.json()["error"] == "not_ready"
    assert "redis" in response.json()["detail"]
    assert "postgresql" not in response.json()["detail"]


@pytest.fixture
async def client_without_postgres(
    api_queue: ArqRedis, api_cipher: SecretsCipher
) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose database is on a port nothing listens on."""
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    app = app_serving(resources_for(create_sessionmaker(engine), api_queue, api_cipher))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client
    finally:
        await engine.dispose()


async def test_readyz_names_postgres_when_it_is_down(
    client_without_postgres: httpx.AsyncClient,
) -> None:
    response = await client_without_postgres.get("/readyz")

    assert response.status_code == 503
    assert "postgresql" in response.json()["detail"]
    assert "redis" not in response.json()["detail"]

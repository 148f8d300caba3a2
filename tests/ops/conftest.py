"""The API with the ops console on, in-process, on the real PostgreSQL and Redis."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import nullcontext

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.ops.config import OpsConfig
from shared.auth.principal import PrincipalCache
from shared.crypto import SecretsCipher
from tests.api_fixtures import resources_for

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no form with a CSRF field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """Load the sign-in form and post ``token`` with its CSRF field."""
    form = await client.get("/ops/login")
    assert form.status_code == 200
    return await client.post(
        "/ops/login", data={"csrf": csrf_of(form.text), "token": token, "next": "/ops"}
    )


@pytest.fixture
async def ops_client(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app serving the console (no change listener: pages are not live).

    Its principal cache keeps nothing, so every request checks the session's token.
    """
    queue_name = api_queue.default_queue_name
    resources = resources_for(
        db_sessionmaker,
        api_queue,
        api_cipher,
        ops=OpsConfig(queue_name=queue_name),
        principals=PrincipalCache(ttl_s=0),
    )
    app = create_app(lambda: nullcontext(resources), ops_console=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as client:
            yield client
    keys = [key async for key in api_queue.scan_iter(match=f"{queue_name}:*")]
    if keys:
        await api_queue.delete(*keys)

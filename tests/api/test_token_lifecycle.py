"""API tokens that expire, are revoked (even mid long poll) or are limited to owners."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import repository as token_repository
from shared.auth.models import ApiToken, TokenRole
from shared.crypto import hash_api_token, new_api_token
from tests.api.helpers import bearer, body
from tests.api_fixtures import ApiTokens

pytestmark = pytest.mark.integration


async def _token(
    sessionmaker: async_sessionmaker[AsyncSession],
    role: TokenRole,
    subject: str,
    **extra: object,
) -> str:
    token = new_api_token()
    async with sessionmaker() as session, session.begin():
        await token_repository.insert_token(
            session,
            hash_api_token(token),
            role,
            subject,
            **extra,  # type: ignore[arg-type]
        )
    return token


async def _revoke(sessionmaker: async_sessionmaker[AsyncSession], token: str) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_api_token(token))
            .values(revoked_at=datetime.now(UTC))
        )


async def test_expired_token_is_not_authenticated(
    api_client: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = await _token(db_sessionmaker, TokenRole.OPS, "o", expires_at=past)
    answer = await api_client.get("/api/projects", headers=bearer(expired))
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


async def test_cached_token_stops_working_when_it_expires(
    api_client: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1)
    token = await _token(db_sessionmaker, TokenRole.OPS, "o", expires_at=soon)
    assert (await api_client.get("/api/projects", headers=bearer(token))).status_code == 200
    await asyncio.sleep(1.2)  # within the 5 s the lookup is cached for
    answer = await api_client.get("/api/projects", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


async def test_revoked_token_is_not_authenticated(
    api_client: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = await _token(db_sessionmaker, TokenRole.OPS, "o")
    await _revoke(db_sessionmaker, token)
    answer = await api_client.get("/api/projects", headers=bearer(token))
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


async def test_revocation_ends_a_long_poll_within_5_s(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token = await _token(db_sessionmaker, TokenRole.SERVICE, "agent")
    created = await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.alice))
    project_id = created.json()["id"]
    poll = asyncio.create_task(
        api_client.get(f"/api/projects/{project_id}?wait=60", headers=bearer(token))
    )
    await asyncio.sleep(0.5)
    assert not poll.done()
    await _revoke(db_sessionmaker, token)
    revoked_at = time.monotonic()
    answer = await asyncio.wait_for(poll, 10)
    assert time.monotonic() - revoked_at <= 5.0
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


async def test_owner_limited_service_token_sees_only_those_owners(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    limited = await _token(db_sessionmaker, TokenRole.SERVICE, "agent", owners=["alice"])
    alices = (
        await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.alice))
    ).json()["id"]
    bobs = (
        await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.bob))
    ).json()["id"]

    assert (
        await api_client.get(f"/api/projects/{alices}", headers=bearer(limited))
    ).status_code == 200
    for path in (f"/api/projects/{bobs}", f"/api/projects/{bobs}/events"):
        hidden = await api_client.get(path, headers=bearer(limited))
        assert hidden.status_code == 404, path
        assert hidden.json()["error"] == "not_found"
    minted = await api_client.post(f"/api/projects/{bobs}/token", headers=bearer(limited))
    assert minted.status_code == 404
    listed = await api_client.get("/api/projects", headers=bearer(limited))
    assert [p["id"] for p in listed.json()["items"]] == [alices]
    waited = await api_client.get(f"/api/projects/{bobs}?wait=1", headers=bearer(limited))
    assert waited.status_code == 404

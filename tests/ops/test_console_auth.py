"""Signing in to the console: only ops tokens, a strict cookie, CSRF on every form, sign-out."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth.models import ApiToken
from shared.crypto import hash_api_token
from tests.api_fixtures import ApiTokens
from tests.ops.conftest import csrf_of, sign_in


async def test_pages_send_a_stranger_to_the_sign_in_form(ops_client: httpx.AsyncClient) -> None:
    response = await ops_client.get("/ops/failed")

    assert response.status_code == 303
    assert response.headers["location"] == "/ops/login?next=/ops/failed"
    fragment = await ops_client.get("/ops", headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/ops/login")


async def test_an_ops_token_gets_a_strict_session_cookie(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    response = await sign_in(ops_client, api_tokens.ops)

    assert response.status_code == 303
    assert response.headers["location"] == "/ops"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("ops_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=strict", "path=/ops"} <= flags
    assert any(flag.startswith("max-age=") for flag in flags)
    assert "secure" not in flags  # plain HTTP here; behind HTTPS it is Secure
    assert api_tokens.ops not in cookie
    overview = await ops_client.get("/ops")
    assert overview.status_code == 200
    assert "oscar-ops" in overview.text
    assert api_tokens.ops not in overview.text
    assert overview.headers["content-security-policy"].startswith("default-src 'none'")
    assert overview.headers["cache-control"] == "no-store"


async def test_behind_https_the_cookie_is_secure(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    form = await ops_client.get("https://ops.test/ops/login")
    response = await ops_client.post(
        "https://ops.test/ops/login",
        data={"csrf": csrf_of(form.text), "token": api_tokens.ops},
    )

    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("ops_session=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


async def test_user_and_service_tokens_are_refused(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    for token, role in ((api_tokens.alice, "user"), (api_tokens.service, "service")):
        response = await sign_in(ops_client, token)

        assert response.status_code == 403
        assert f"A {role} token cannot sign in" in response.text
        assert "ops_session=" not in response.headers.get("set-cookie", "")
    unknown = await sign_in(ops_client, "prv_not-a-token")
    assert unknown.status_code == 401
    assert (await ops_client.get("/ops")).status_code == 303


async def test_sign_in_without_the_forms_csrf_field_is_refused(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    await ops_client.get("/ops/login")

    response = await ops_client.post("/ops/login", data={"csrf": "forged", "token": api_tokens.ops})

    assert response.status_code == 403
    assert (await ops_client.get("/ops")).status_code == 303


async def test_forms_need_the_sessions_csrf_token_and_this_origin(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    await sign_in(ops_client, api_tokens.ops)
    csrf = csrf_of((await ops_client.get("/ops")).text)

    forged = await ops_client.post("/ops/logout", data={"csrf": "nope"})
    other_site = await ops_client.post(
        "/ops/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    not_a_form = await ops_client.post("/ops/logout", json={"csrf": csrf})

    assert (forged.status_code, other_site.status_code, not_a_form.status_code) == (403, 403, 415)
    assert (await ops_client.get("/ops")).status_code == 200  # still signed in


async def test_sign_out_ends_the_session(
    ops_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    await sign_in(ops_client, api_tokens.ops)
    old_cookie = ops_client.cookies.get("ops_session")
    csrf = csrf_of((await ops_client.get("/ops")).text)

    response = await ops_client.post("/ops/logout", data={"csrf": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/ops/login?notice=signed_out"
    assert (await ops_client.get("/ops")).status_code == 303
    ops_client.cookies.set("ops_session", old_cookie or "", path="/ops")
    assert (await ops_client.get("/ops")).status_code == 303  # the old id is dead, not just lost


async def test_revoking_the_token_ends_its_sessions(
    ops_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await sign_in(ops_client, api_tokens.ops)
    assert (await ops_client.get("/ops")).status_code == 200
    async with db_sessionmaker() as session, session.begin():
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_api_token(api_tokens.ops))
            .values(revoked_at=ApiToken.created_at)
        )

    response = await ops_client.get("/ops")

    assert response.status_code == 303
    assert (await ops_client.get("/ops")).status_code == 303


async def test_the_console_is_not_served_unless_turned_on(
    api_client: httpx.AsyncClient,
) -> None:
    assert (await api_client.get("/ops/login")).status_code == 404
    assert (await api_client.get("/ops/static/ops.css")).status_code == 404

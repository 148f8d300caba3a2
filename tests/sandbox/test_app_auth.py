"""App JWT rules, installations, and installation tokens (issue, expiry, narrowing)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import GitHubSandbox
from tests.sandbox.conftest import APP_ID, ORG, FakeClock, Tokens, make_jwt


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_good_jwt_gets_the_app(
    client: httpx.AsyncClient, app_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    for iss in (APP_ID, str(APP_ID)):
        r = await client.get("/app", headers=bearer(make_jwt(app_key, clock(), iss=iss)))
        assert r.status_code == 200
        assert r.json()["id"] == APP_ID


async def test_client_id_is_accepted_as_issuer(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    app_key: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    r = await client.get("/app", headers=bearer(make_jwt(app_key, clock(), iss=sandbox.client_id)))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": 999}, "A JSON web token could not be decoded"),
        ({"iss": "someone"}, "'Issuer' claim ('iss') must be an Integer"),
        ({"iat": -60, "exp": 601}, "'Expiration time' claim ('exp') is too far in the future"),
        ({"iat": -700, "exp": -10}, "'Expiration time' claim ('exp') must be a numeric value"),
        ({"iat": 120, "exp": 500}, "'Issued at' claim ('iat') must be an Integer"),
    ],
)
async def test_bad_jwt_claims_answer_401(
    client: httpx.AsyncClient,
    app_key: rsa.RSAPrivateKey,
    clock: FakeClock,
    claims: dict[str, int],
    message: str,
) -> None:
    now = clock()
    kwargs: dict[str, object] = {"iss": claims.get("iss", APP_ID)}
    if "iat" in claims:
        kwargs["iat"] = now + claims["iat"]
        kwargs["exp"] = now + claims["exp"]
    r = await client.get("/app", headers=bearer(make_jwt(app_key, now, **kwargs)))  # type: ignore[arg-type]
    assert r.status_code == 401
    assert r.json()["message"].startswith(message)
    assert r.json()["documentation_url"].startswith("https://docs.github.com/")


async def test_jwt_signed_by_another_key_is_refused(
    client: httpx.AsyncClient, other_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    r = await client.get("/app", headers=bearer(make_jwt(other_key, clock())))
    assert r.status_code == 401
    assert r.json()["message"] == "A JSON web token could not be decoded"


async def test_jwt_expires_by_the_sandbox_clock(
    client: httpx.AsyncClient, app_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    token = make_jwt(app_key, clock())
    assert (await client.get("/app", headers=bearer(token))).status_code == 200
    clock.advance(600)
    assert (await client.get("/app", headers=bearer(token))).status_code == 401


async def test_installation_token_on_app_endpoint_and_jwt_on_repo_endpoint(
    client: httpx.AsyncClient, auth: dict[str, str], app_headers: Callable[[], dict[str, str]]
) -> None:
    r = await client.get("/app", headers=auth)
    assert r.status_code == 401
    assert r.json()["message"] == "A JSON web token could not be decoded"
    r = await client.post("/orgs/acme/repos", headers=app_headers(), json={"name": "x"})
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by integration"


async def test_missing_authorization_is_401(client: httpx.AsyncClient) -> None:
    r = await client.get("/app")
    assert r.status_code == 401


async def test_installations_are_paginated_with_link_headers(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, app_headers: Callable[[], dict[str, str]]
) -> None:
    for i in range(4):
        sandbox.add_installation(f"org{i}")
    seen: list[int] = []
    url: str | None = "/app/installations?per_page=2"
    pages = 0
    while url:
        r = await client.get(url, headers=app_headers())
        assert r.status_code == 200
        seen += [i["id"] for i in r.json()]
        pages += 1
        url = r.links.get("next", {}).get("url")
        if pages == 1:
            assert r.links["last"]["url"].endswith("page=3")
    assert pages == 3
    assert len(set(seen)) == 5


async def test_org_and_repo_installation_lookup(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, app_headers: Callable[[], dict[str, str]]
) -> None:
    r = await client.get("/orgs/ACME/installation", headers=app_headers())
    assert r.status_code == 200
    assert r.json()["account"]["login"] == ORG
    assert (await client.get("/orgs/nobody/installation", headers=app_headers())).status_code == 404
    assert (
        await client.get("/repos/acme/later/installation", headers=app_headers())
    ).status_code == 404
    sandbox.add_repository(ORG, "later")
    assert (
        await client.get("/repos/acme/later/installation", headers=app_headers())
    ).status_code == 200


async def test_token_shape_and_expiry(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    tokens: Tokens,
    app_headers: Callable[[], dict[str, str]],
    clock: FakeClock,
) -> None:
    inst = await tokens.installation_id()
    r = await client.post(f"/app/installations/{inst}/access_tokens", headers=app_headers())
    assert r.status_code == 201
    body = r.json()
    assert body["token"].startswith("ghs_")
    assert len(body["token"]) > 40
    assert body["expires_at"].endswith("Z")
    assert body["repository_selection"] == "all"
    assert body["permissions"]["administration"] == "write"
    assert sandbox.tokens_issued == 1
    headers = bearer(body["token"])
    assert (await client.get("/rate_limit", headers=headers)).status_code == 200
    clock.advance(3599)
    assert (await client.get("/rate_limit", headers=headers)).status_code == 200
    clock.advance(1)
    r = await client.get("/rate_limit", headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


async def test_unknown_and_revoked_tokens_are_bad_credentials(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.get("/repos/acme/x", headers=bearer("ghs_" + "a" * 76))
    assert r.status_code == 401
    assert r.json()["message"] == "Bad credentials"
    sandbox.revoke_tokens()
    assert (await client.get("/rate_limit", headers=auth)).status_code == 401


async def test_unknown_installation_is_404(
    client: httpx.AsyncClient, app_headers: Callable[[], dict[str, str]]
) -> None:
    r = await client.post("/app/installations/1/access_tokens", headers=app_headers())
    assert r.status_code == 404


async def test_narrowed_token(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    tokens: Tokens,
    app_headers: Callable[[], dict[str, str]],
) -> None:
    mine = sandbox.add_repository(ORG, "mine")
    sandbox.add_repository(ORG, "other")
    inst = await tokens.installation_id()
    r = await client.post(
        f"/app/installations/{inst}/access_tokens",
        headers=app_headers(),
        json={"repositories": ["MINE"], "permissions": {"contents": "write"}},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["repository_selection"] == "selected"
    assert [repo["id"] for repo in body["repositories"]] == [mine.id]
    assert body["permissions"] == {"contents": "write"}
    scoped = bearer(body["token"])
    assert (await client.get("/repos/acme/mine", headers=scoped)).status_code == 200
    assert (await client.get("/repos/acme/other", headers=scoped)).status_code == 404
    r = await client.post("/orgs/acme/repos", headers=scoped, json={"name": "new"})
    assert r.status_code == 403
    r = await client.get("/repos/acme/mine/actions/secrets/public-key", headers=scoped)
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by integration"


@pytest.mark.parametrize(
    "narrow",
    [
        {"repositories": ["nope"]},
        {"repository_ids": [12345]},
        {"permissions": {"issues": "write"}},
        {"permissions": {"metadata": "write"}},
    ],
)
async def test_narrowing_beyond_the_installation_is_422(
    client: httpx.AsyncClient,
    tokens: Tokens,
    app_headers: Callable[[], dict[str, str]],
    narrow: dict[str, object],
) -> None:
    inst = await tokens.installation_id()
    r = await client.post(
        f"/app/installations/{inst}/access_tokens", headers=app_headers(), json=narrow
    )
    assert r.status_code == 422


async def test_every_answer_is_dated_by_the_sandbox_clock(
    client: httpx.AsyncClient, app_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    from email.utils import parsedate_to_datetime

    ok = await client.get("/app", headers=bearer(make_jwt(app_key, clock())))
    refused = await client.get("/app", headers=bearer("not-a-jwt"))
    clock.advance(3600)
    later = await client.get("/app", headers=bearer(make_jwt(app_key, clock())))

    for answer, expected in ((ok, clock() - 3600), (refused, clock() - 3600), (later, clock())):
        assert answer.headers.get_list("date") == [answer.headers["date"]]
        assert parsedate_to_datetime(answer.headers["date"]).timestamp() == int(expected)
    assert refused.status_code == 401

"""Request conformance: OpenAPI validation, User-Agent, API version; response validation."""

from __future__ import annotations

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import GitHubSandbox, response_errors
from tests.sandbox.conftest import ORG


async def test_malformed_body_is_422_and_recorded(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "x", "private": "yes"})
    assert r.status_code == 422
    assert r.json()["message"].startswith("Invalid request.\n\n")
    assert "private" in r.json()["message"]
    assert sandbox.repository(ORG, "x") is None
    assert len(sandbox.spec_violations) == 1
    assert "POST /orgs/{org}/repos" in sandbox.spec_violations[0]


async def test_bad_query_and_unknown_operation_are_recorded(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    auth: dict[str, str],
) -> None:
    r = await client.get("/repos/acme/x/actions/secrets", headers=auth, params={"per_page": "ten"})
    assert r.status_code == 422
    r = await client.get("/user/emails", headers=auth)  # not in the description
    assert r.status_code == 404
    r = await client.post("/orgs/acme/repos", headers=auth, content=b"{not json")
    assert r.status_code == 400
    assert len(sandbox.spec_violations) == 3


async def test_validation_can_be_switched_off(
    app_key: rsa.RSAPrivateKey, sandbox: GitHubSandbox
) -> None:
    lax = GitHubSandbox(1, app_key.public_key(), validate_requests=False)
    assert lax.spec_violations == []


async def test_user_agent_is_required(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get("/rate_limit", headers={**auth, "User-Agent": ""})
    assert r.status_code == 403
    assert "User-Agent" in r.json()["message"]


async def test_unknown_api_version_is_400(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get("/rate_limit", headers={**auth, "X-GitHub-Api-Version": "2001-01-01"})
    assert r.status_code == 400


def test_response_checker_catches_wrong_shapes() -> None:
    errors = response_errors(
        "GET", "/repos/a/b", 200, {"content-type": "application/json"}, b'{"id": "not-an-int"}'
    )
    assert errors
    assert response_errors("GET", "/nowhere", 200, {}, b"{}")


async def test_request_log(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.reset_requests()
    await client.post("/orgs/acme/repos", headers=auth, json={"name": "logged"})
    (record,) = sandbox.requests
    assert (record.method, record.path, record.json, record.status, record.auth) == (
        "POST",
        "/orgs/acme/repos",
        {"name": "logged"},
        201,
        "installation",
    )
    assert record.installation_id is not None
    assert sandbox.count() == 1
    assert sandbox.count("GET") == 0

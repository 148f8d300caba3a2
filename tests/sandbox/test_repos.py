"""Repository creation (name rule, duplicates, permissions), lookup and deletion."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import GitHubSandbox
from tests.sandbox.conftest import APP_ID, ORG, UA, FakeClock, Tokens, make_jwt


@pytest.mark.parametrize(
    ("asked", "created"),
    [
        ("Repo Test", "Repo-Test"),
        ("proj.git", "proj"),
        ("ünï cödé!", "-n--c-d--"),
        ("a" * 100, "a" * 100),
        ("dots.and_under-scores", "dots.and_under-scores"),
    ],
)
async def test_names_are_changed_like_github(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    auth: dict[str, str],
    asked: str,
    created: str,
) -> None:
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": asked, "private": True})
    assert r.status_code == 201
    assert r.json()["name"] == created
    assert r.json()["full_name"] == f"{ORG}/{created}"
    assert r.headers["location"].endswith(f"/repos/{ORG}/{created}")
    assert sandbox.repository(ORG, created.upper()) is not None


@pytest.mark.parametrize("name", ["", ".", "..", ".git", "a" * 101])
async def test_invalid_names_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], name: str
) -> None:
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": name})
    assert r.status_code == 422
    assert r.json()["message"] == "Repository creation failed."
    assert r.json()["errors"][0]["field"] == "name"


async def test_duplicate_name_is_exactly_githubs_422(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "Taken")
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "taken"})
    assert r.status_code == 422
    assert r.json() == {
        "message": "Repository creation failed.",
        "errors": [
            {
                "resource": "Repository",
                "code": "custom",
                "field": "name",
                "message": "name already exists on this account",
            }
        ],
        "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository",
        "status": "422",
    }


async def test_options_are_honoured(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    r = await client.post(
        "/orgs/acme/repos",
        headers=auth,
        json={"name": "p", "visibility": "private", "description": "D", "auto_init": True},
    )
    body = r.json()
    assert (body["private"], body["visibility"], body["description"]) == (True, "private", "D")
    assert body["default_branch"] == "main"
    assert body["html_url"] == "https://github.com/acme/p"
    assert body["clone_url"] == "https://github.com/acme/p.git"
    repo = sandbox.repository(ORG, "p")
    assert repo is not None
    assert list(repo.files) == ["README.md"]
    assert repo.commits[0].message == "Initial commit"
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "pub"})
    assert r.json()["private"] is False  # GitHub's default when neither field is sent
    got = await client.get("/repos/ACME/P", headers=auth)
    assert got.status_code == 200
    assert got.json()["id"] == repo.id


async def test_web_url_is_configurable(app_key: rsa.RSAPrivateKey, clock: FakeClock) -> None:
    sb = GitHubSandbox(APP_ID, app_key.public_key(), clock=clock, web_url="https://ghe.example/")
    sb.add_installation("o")
    sb.add_repository("o", "r")
    transport = httpx.ASGITransport(app=sb.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=UA) as c:
        jwt_headers = {"Authorization": f"Bearer {make_jwt(app_key, clock())}"}
        inst = (await c.get("/orgs/o/installation", headers=jwt_headers)).json()["id"]
        minted = await c.post(f"/app/installations/{inst}/access_tokens", headers=jwt_headers)
        token = {"Authorization": f"Bearer {minted.json()['token']}"}
        body = (await c.get("/repos/o/r", headers=token)).json()
    assert body["html_url"] == "https://ghe.example/o/r"
    assert body["ssh_url"] == "git@ghe.example:o/r.git"
    assert body["url"] == "http://api.test/repos/o/r"


async def test_user_repos_is_not_enabled_for_apps(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    r = await client.post("/user/repos", headers=auth, json={"name": "x"})
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by integration"


async def test_missing_administration_permission_is_403(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, tokens: Tokens
) -> None:
    sandbox.add_installation("readonly", permissions={"metadata": "read", "contents": "read"})
    headers = await tokens.headers("readonly")
    r = await client.post("/orgs/readonly/repos", headers=headers, json={"name": "x"})
    assert r.status_code == 403
    assert r.json()["message"] == "Resource not accessible by integration"


async def test_other_accounts_are_hidden(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository("foreign", "secret-stuff")
    sandbox.add_installation("elsewhere")
    assert (await client.get("/repos/foreign/secret-stuff", headers=auth)).status_code == 404
    assert (await client.get("/repos/acme/missing", headers=auth)).status_code == 404
    r = await client.post("/orgs/elsewhere/repos", headers=auth, json={"name": "x"})
    assert r.status_code == 403
    r = await client.post("/orgs/ghost/repos", headers=auth, json={"name": "x"})
    assert r.status_code == 404


async def test_delete(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "gone")
    assert (await client.delete("/repos/acme/gone", headers=auth)).status_code == 204
    assert sandbox.repository(ORG, "gone") is None
    assert (await client.get("/repos/acme/gone", headers=auth)).status_code == 404

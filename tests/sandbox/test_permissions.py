"""Each endpoint needs the App permission GitHub documents; without it: 403 naming it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import GitHubSandbox
from sandbox.state import DEFAULT_PERMISSIONS
from tests.sandbox.conftest import ORG, Tokens

TEAM_WRITE = "members=read,administration=write"
CASES: list[tuple[str, str, str, Any, str]] = [
    ("administration", "PATCH", "/repos/acme/r", {"has_wiki": False}, "administration=write"),
    ("administration", "DELETE", "/repos/acme/r", None, "administration=write"),
    ("administration", "PUT", "/repos/acme/r/topics", {"names": ["a"]}, "administration=write"),
    ("administration", "PUT", "/repos/acme/r/collaborators/alice", {}, "administration=write"),
    ("administration", "DELETE", "/repos/acme/r/collaborators/alice", None, "administration=write"),
    ("administration", "GET", "/repos/acme/r/invitations", None, "administration=read"),
    ("administration", "GET", "/repos/acme/r/teams", None, "administration=read"),
    ("administration", "PUT", "/orgs/acme/teams/platform/repos/acme/r", {}, TEAM_WRITE),
    ("members", "PUT", "/orgs/acme/teams/platform/repos/acme/r", {}, TEAM_WRITE),
    ("members", "GET", "/orgs/acme/teams/platform", None, "members=read"),
    ("members", "GET", "/orgs/acme/teams/platform/repos/acme/r", None, "members=read"),
    ("administration", "POST", "/repos/acme/r/rulesets", {"name": "n", "enforcement": "active"},
     "administration=write"),
    ("administration", "PUT", "/repos/acme/r/branches/main/protection",
     {"required_status_checks": None, "enforce_admins": None,
      "required_pull_request_reviews": None, "restrictions": None}, "administration=write"),
    ("administration", "GET", "/repos/acme/r/branches/main/protection", None,
     "administration=read"),
    ("administration", "PUT", "/repos/acme/r/environments/prod", {}, "administration=write"),
    ("actions", "GET", "/repos/acme/r/environments/prod", None, "actions=read"),
    ("actions_variables", "POST", "/repos/acme/r/actions/variables", {"name": "A", "value": "1"},
     "actions_variables=write"),
    ("actions_variables", "GET", "/repos/acme/r/actions/variables", None, "actions_variables=read"),
    ("repository_custom_properties", "PATCH", "/repos/acme/r/properties/values",
     {"properties": []}, "repository_custom_properties=write"),
    ("organization_custom_properties", "GET", "/orgs/acme/properties/schema", None,
     "organization_custom_properties=read"),
    ("contents", "POST", "/repos/acme/tpl/generate", {"name": "n"},
     "administration=write,contents=read"),
    ("administration", "POST", "/repos/acme/tpl/generate", {"name": "n"},
     "administration=write,contents=read"),
    ("secrets", "GET", "/repos/acme/r/actions/secrets", None, "secrets=read"),
    ("administration", "POST", "/orgs/acme/repos", {"name": "n"}, "administration=write"),
]  # fmt: skip


@pytest.fixture
def world(sandbox: GitHubSandbox) -> GitHubSandbox:
    sandbox.add_repository(ORG, "r", files={"README.md": "x"})
    sandbox.add_repository(ORG, "tpl", files={"README.md": "x"}, is_template=True)
    sandbox.add_team(ORG, "platform")
    sandbox.add_user("alice")
    return sandbox


@pytest.mark.parametrize(("removed", "method", "path", "body", "accepted"), CASES)
async def test_missing_permission_is_403_with_the_accepted_header(
    client: httpx.AsyncClient,
    world: GitHubSandbox,
    tokens: Tokens,
    removed: str,
    method: str,
    path: str,
    body: Any,
    accepted: str,
) -> None:
    installation_id = await tokens.installation_id()
    granted = {k: v for k, v in DEFAULT_PERMISSIONS.items() if k != removed}
    world.set_installation_permissions(installation_id, granted)
    auth = await tokens.headers()
    r = await client.request(method, path, headers=auth, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["message"] == "Resource not accessible by integration"
    assert r.headers["x-accepted-github-permissions"] == accepted
    world.set_installation_permissions(installation_id, dict(DEFAULT_PERMISSIONS))
    r = await client.request(method, path, headers=await tokens.headers(), json=body)
    assert r.status_code != 403, r.text  # the same request passes with the permission


async def test_a_read_level_is_not_write(
    client: httpx.AsyncClient, world: GitHubSandbox, tokens: Tokens
) -> None:
    narrowed = await tokens.headers(permissions={"administration": "read", "metadata": "read"})
    r = await client.put("/repos/acme/r/topics", headers=narrowed, json={"names": []})
    assert (r.status_code, r.headers["x-accepted-github-permissions"]) == (
        403,
        "administration=write",
    )
    assert (await client.get("/repos/acme/r/teams", headers=narrowed)).status_code == 200
    assert (await client.get("/repos/acme/r/topics", headers=narrowed)).status_code == 200


async def test_a_hidden_repository_is_404_before_any_permission(
    client: httpx.AsyncClient, world: GitHubSandbox, tokens: Tokens
) -> None:
    narrowed = await tokens.headers(permissions={"metadata": "read"})
    r = await client.patch("/repos/acme/missing", headers=narrowed, json={})
    assert r.status_code == 404

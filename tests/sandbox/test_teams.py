"""Team access: lookup by slug, granting and checking a team's access, a repository's teams."""

from __future__ import annotations

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

TEAM_REPO = "/orgs/acme/teams/platform/repos/acme/r"


@pytest.fixture
def world(sandbox: GitHubSandbox) -> GitHubSandbox:
    sandbox.add_team(ORG, "platform", name="Platform", description="builds things")
    sandbox.add_team(ORG, "data")
    sandbox.add_repository(ORG, "r")
    return sandbox


async def test_get_team(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.get("/orgs/acme/teams/platform", headers=auth)
    assert r.status_code == 200
    assert (r.json()["slug"], r.json()["name"], r.json()["repos_count"]) == (
        "platform",
        "Platform",
        0,
    )
    assert (await client.get("/orgs/acme/teams/ghosts", headers=auth)).status_code == 404


async def test_grant_check_list_and_remove(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    assert (await client.get(TEAM_REPO, headers=auth)).status_code == 404  # no access yet
    assert (
        await client.put(TEAM_REPO, headers=auth, json={"permission": "maintain"})
    ).status_code == 204
    assert (
        await client.put(TEAM_REPO, headers=auth, json={"permission": "maintain"})
    ).status_code == 204
    assert (await client.get(TEAM_REPO, headers=auth)).status_code == 204
    media = {**auth, "Accept": "application/vnd.github.v3.repository+json"}
    r = await client.get(TEAM_REPO, headers=media)
    assert r.status_code == 200
    assert (r.json()["full_name"], r.json()["role_name"]) == ("acme/r", "maintain")
    assert r.json()["permissions"]["maintain"] is True
    assert r.json()["permissions"]["admin"] is False
    await client.put("/orgs/acme/teams/data/repos/acme/r", headers=auth)  # default: push
    teams = (await client.get("/repos/acme/r/teams", headers=auth)).json()
    assert [(t["slug"], t["permission"]) for t in teams] == [
        ("data", "push"),
        ("platform", "maintain"),
    ]
    assert (await client.get("/orgs/acme/teams/platform", headers=auth)).json()["repos_count"] == 1
    assert (await client.delete(TEAM_REPO, headers=auth)).status_code == 204
    assert (await client.delete(TEAM_REPO, headers=auth)).status_code == 204
    assert (await client.get(TEAM_REPO, headers=auth)).status_code == 404
    teams = (await client.get("/repos/acme/r/teams", headers=auth)).json()
    assert [t["slug"] for t in teams] == ["data"]


async def test_refusals(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.put("/orgs/acme/teams/ghosts/repos/acme/r", headers=auth, json={})
    assert r.status_code == 404
    r = await client.put("/orgs/acme/teams/platform/repos/acme/none", headers=auth, json={})
    assert r.status_code == 404
    r = await client.put(TEAM_REPO, headers=auth, json={"permission": "owner"})
    assert r.status_code == 422
    world.add_installation("other")
    world.add_team("other", "platform")
    r = await client.put("/orgs/other/teams/platform/repos/acme/r", headers=auth, json={})
    assert r.status_code == 404  # another organization's team is not visible
    repo = world.repository(ORG, "r")
    assert repo is not None
    assert repo.team_access == {}

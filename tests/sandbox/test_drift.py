"""Behind-the-back changes (a person in the web UI), in Python and over /_sandbox/repos/...

Each change is checked through the App's own API, as a drift check would see it.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from sandbox import GitHubSandbox
from sandbox.drift import PERSON
from tests.sandbox.conftest import ORG

REPO = "/repos/acme/r"
CONTROL = "/_sandbox/repos/acme/r"


@pytest.fixture
async def world(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> GitHubSandbox:
    """A repository the App has set up: topics, a team, a collaborator, a variable..."""
    sandbox.add_team(ORG, "platform")
    sandbox.add_user("alice")
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    sandbox.add_repository(ORG, "r", files={"README.md": "hello\n"})
    setup = [
        ("PUT", f"{REPO}/topics", {"names": ["api"]}),
        ("PUT", "/orgs/acme/teams/platform/repos/acme/r", {"permission": "push"}),
        ("PUT", f"{REPO}/collaborators/alice", {"permission": "push"}),
        ("POST", f"{REPO}/actions/variables", {"name": "REGION", "value": "eu"}),
        ("POST", f"{REPO}/rulesets", {"name": "main", "enforcement": "active"}),
        ("PUT", f"{REPO}/environments/production", {"wait_timer": 5}),
        ("PATCH", f"{REPO}/properties/values",
         {"properties": [{"property_name": "tier", "value": "gold"}]}),
    ]  # fmt: skip
    for method, path, body in setup:
        r = await client.request(method, path, headers=auth, json=body)
        assert r.status_code < 300, (path, r.text)
    invitation = (await client.get(f"{REPO}/invitations", headers=auth)).json()[0]
    sandbox.accept_invitation(invitation["id"])
    sandbox.reset_requests()
    return sandbox


def _ruleset_id(sb: GitHubSandbox) -> int:
    repo = sb.repository(ORG, "r")
    assert repo is not None
    (ruleset_id,) = repo.rulesets
    return ruleset_id


async def _get(client: httpx.AsyncClient, auth: dict[str, str], path: str) -> httpx.Response:
    return await client.get(path, headers=auth)


@pytest.mark.parametrize("over_http", [False, True])
async def test_repository_fields_and_archiving(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    change = {"description": "by hand", "has_wiki": False, "allow_auto_merge": True}
    if over_http:
        assert (await client.patch(CONTROL, json=change)).status_code == 204
        assert (await client.patch(CONTROL, json={"archived": True})).status_code == 204
    else:
        world.edit_repository(ORG, "r", **change)
        world.archive_repository(ORG, "r")
    got = (await _get(client, auth, REPO)).json()
    assert (got["description"], got["has_wiki"], got["allow_auto_merge"]) == (
        "by hand",
        False,
        True,
    )
    assert got["archived"] is True
    r = await client.put(f"{REPO}/topics", headers=auth, json={"names": []})
    assert r.status_code == 403
    assert world.requests[0].method == "GET"  # the changes themselves were no requests


async def test_refused_edits(client: httpx.AsyncClient, world: GitHubSandbox) -> None:
    with pytest.raises(ValueError, match="not repository fields"):
        world.edit_repository(ORG, "r", colour="red")
    with pytest.raises(ValueError, match="enterprise"):
        world.edit_repository(ORG, "r", visibility="internal")
    with pytest.raises(KeyError):
        world.edit_repository(ORG, "missing", has_wiki=False)
    assert (await client.patch(CONTROL, json={"colour": "red"})).status_code == 400
    assert (await client.patch("/_sandbox/repos/acme/missing", json={})).status_code == 404
    assert (await client.put(f"{CONTROL}/topics", json={"names": ["Bad_Topic"]})).status_code == 400


@pytest.mark.parametrize("over_http", [False, True])
async def test_delete_the_repository(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    if over_http:
        assert (await client.delete(CONTROL)).status_code == 204
    else:
        world.delete_repository(ORG, "r")
    assert (await _get(client, auth, REPO)).status_code == 404


@pytest.mark.parametrize("over_http", [False, True])
async def test_topics_teams_collaborators(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    if over_http:
        assert (await client.put(f"{CONTROL}/topics", json={"names": ["Ops"]})).status_code == 204
        r = await client.put(f"{CONTROL}/teams/platform", json={"permission": "admin"})
        assert r.status_code == 204
        assert (await client.delete(f"{CONTROL}/collaborators/alice")).status_code == 204
    else:
        world.set_topics(ORG, "r", ["Ops"])
        world.set_team_access(ORG, "r", "platform", "admin")
        world.set_collaborator(ORG, "r", "alice", None)
    assert (await _get(client, auth, f"{REPO}/topics")).json() == {"names": ["ops"]}
    teams = (await _get(client, auth, f"{REPO}/teams")).json()
    assert [(t["slug"], t["permission"]) for t in teams] == [("platform", "admin")]
    assert (await _get(client, auth, f"{REPO}/collaborators")).json() == []
    if over_http:
        assert (await client.delete(f"{CONTROL}/teams/platform")).status_code == 204
        r = await client.put(f"{CONTROL}/collaborators/alice", json={"permission": "maintain"})
        assert r.status_code == 204
    else:
        world.set_team_access(ORG, "r", "platform", None)
        world.set_collaborator(ORG, "r", "alice", "maintain")
    assert (await _get(client, auth, f"{REPO}/teams")).json() == []
    listed = (await _get(client, auth, f"{REPO}/collaborators")).json()
    assert [(c["login"], c["role_name"]) for c in listed] == [("alice", "maintain")]


async def test_unknown_team_person_or_role(client: httpx.AsyncClient, world: GitHubSandbox) -> None:
    with pytest.raises(KeyError):
        world.set_team_access(ORG, "r", "ghosts", "pull")
    with pytest.raises(KeyError):
        world.set_collaborator(ORG, "r", "nobody", "pull")
    with pytest.raises(ValueError, match="role"):
        world.set_collaborator(ORG, "r", "alice", "owner")
    r = await client.put(f"{CONTROL}/teams/ghosts", json={"permission": "pull"})
    assert r.status_code == 404
    assert (await client.put(f"{CONTROL}/teams/platform", json={})).status_code == 400


@pytest.mark.parametrize("over_http", [False, True])
async def test_variables(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    if over_http:
        assert (
            await client.put(f"{CONTROL}/variables/region", json={"value": "us"})
        ).status_code == 204
        assert (
            await client.put(f"{CONTROL}/variables/EXTRA", json={"value": "1"})
        ).status_code == 204
        assert (await client.delete(f"{CONTROL}/variables/EXTRA")).status_code == 204
        assert (await client.delete(f"{CONTROL}/variables/EXTRA")).status_code == 404
    else:
        world.set_variable(ORG, "r", "region", "us")
        world.set_variable(ORG, "r", "EXTRA", "1")
        world.set_variable(ORG, "r", "EXTRA", None)
        with pytest.raises(KeyError):
            world.set_variable(ORG, "r", "EXTRA", None)
    listed = (await _get(client, auth, f"{REPO}/actions/variables")).json()["variables"]
    assert [(v["name"], v["value"]) for v in listed] == [("REGION", "us")]
    with pytest.raises(ValueError, match="GITHUB_"):
        world.set_variable(ORG, "r", "GITHUB_X", "1")


@pytest.mark.parametrize("over_http", [False, True])
async def test_rulesets(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    ruleset_id = _ruleset_id(world)
    path = f"{REPO}/rulesets/{ruleset_id}"
    if over_http:
        r = await client.patch(f"{CONTROL}/rulesets/{ruleset_id}", json={"enforcement": "disabled"})
        assert r.status_code == 204
    else:
        world.edit_ruleset(
            ORG, "r", ruleset_id, enforcement="disabled", rules=[{"type": "deletion"}]
        )
    got = (await _get(client, auth, path)).json()
    assert got["enforcement"] == "disabled"
    if over_http:
        assert (await client.delete(f"{CONTROL}/rulesets/{ruleset_id}")).status_code == 204
        assert (await client.delete(f"{CONTROL}/rulesets/{ruleset_id}")).status_code == 404
        assert (await client.patch(f"{CONTROL}/rulesets/x", json={})).status_code == 404
    else:
        assert got["rules"] == [{"type": "deletion"}]
        with pytest.raises(ValueError, match="not ruleset fields"):
            world.edit_ruleset(ORG, "r", ruleset_id, colour="red")
        world.delete_ruleset(ORG, "r", ruleset_id)
    assert (await _get(client, auth, path)).status_code == 404


@pytest.mark.parametrize("over_http", [False, True])
async def test_environment_and_protection(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    protection = {
        "required_status_checks": None,
        "enforce_admins": True,
        "required_pull_request_reviews": None,
        "restrictions": None,
    }
    if over_http:
        assert (await client.delete(f"{CONTROL}/environments/Production")).status_code == 204
        r = await client.put(f"{CONTROL}/branches/main/protection", json=protection)
        assert r.status_code == 204
    else:
        world.delete_environment(ORG, "r", "Production")
        world.set_branch_protection(ORG, "r", "main", protection)
    assert (await _get(client, auth, f"{REPO}/environments/production")).status_code == 404
    got = await _get(client, auth, f"{REPO}/branches/main/protection")
    assert got.json()["enforce_admins"]["enabled"] is True
    if over_http:
        assert (await client.delete(f"{CONTROL}/branches/main/protection")).status_code == 204
    else:
        world.set_branch_protection(ORG, "r", "main", None)
    assert (await _get(client, auth, f"{REPO}/branches/main/protection")).status_code == 404


@pytest.mark.parametrize("over_http", [False, True])
async def test_custom_property_values(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    if over_http:
        assert (
            await client.patch(f"{CONTROL}/properties", json={"tier": "silver"})
        ).status_code == 204
        assert (await client.patch(f"{CONTROL}/properties", json={"tier": "x"})).status_code == 400
    else:
        world.set_property_values(ORG, "r", {"tier": "silver"})
        with pytest.raises(ValueError, match="not defined"):
            world.set_property_values(ORG, "r", {"nope": "x"})
    got = (await _get(client, auth, f"{REPO}/properties/values")).json()
    assert got == [{"property_name": "tier", "value": "silver"}]
    world.set_property_values(ORG, "r", {"tier": None})
    assert (await _get(client, auth, f"{REPO}/properties/values")).json() == []


@pytest.mark.parametrize("over_http", [False, True])
async def test_files(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str], over_http: bool
) -> None:
    if over_http:
        r = await client.put(f"{CONTROL}/files/README.md", json={"content": "edited\n"})
        assert r.status_code == 200
        sha = r.json()["commit"]
        assert (
            await client.put(f"{CONTROL}/files/docs/new.md", json={"content": "n"})
        ).status_code == 200
        assert (await client.delete(f"{CONTROL}/files/docs/new.md")).status_code == 200
        assert (await client.delete(f"{CONTROL}/files/docs/new.md")).status_code == 404
    else:
        sha = world.write_file(ORG, "r", "README.md", "edited\n").sha
        world.write_file(ORG, "r", "docs/new.md", "n")
        world.delete_file(ORG, "r", "docs/new.md")
        with pytest.raises(KeyError):
            world.delete_file(ORG, "r", "docs/new.md")
    got = (await _get(client, auth, f"{REPO}/contents/README.md")).json()
    assert base64.b64decode(got["content"]) == b"edited\n"
    assert (await _get(client, auth, f"{REPO}/contents/docs/new.md")).status_code == 404
    repo = world.repository(ORG, "r")
    assert repo is not None
    assert any(c.sha == sha and c.author == PERSON for c in repo.commits)

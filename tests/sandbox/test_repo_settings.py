"""Repository settings on create and PATCH, visibility, archiving, listing, deletion."""

from __future__ import annotations

import base64

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

EVERYTHING = {
    "description": "D",
    "homepage": "https://example.org",
    "visibility": "private",
    "has_issues": False,
    "has_projects": False,
    "has_wiki": False,
    "is_template": True,
    "allow_squash_merge": False,
    "allow_merge_commit": False,
    "allow_rebase_merge": True,
    "allow_auto_merge": True,
    "delete_branch_on_merge": True,
    "squash_merge_commit_title": "PR_TITLE",
    "squash_merge_commit_message": "PR_BODY",
    "merge_commit_title": "PR_TITLE",
    "merge_commit_message": "PR_BODY",
}


async def test_create_stores_every_field_and_get_answers_them(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    body = {"name": "full", **EVERYTHING, "custom_properties": {"tier": "gold"}}
    created = await client.post("/orgs/acme/repos", headers=auth, json=body)
    assert created.status_code == 201
    got = (await client.get("/repos/acme/full", headers=auth)).json()
    for key, value in EVERYTHING.items():
        assert got[key] == value, key
        assert created.json()[key] == value, key
    assert got["private"] is True
    assert got["custom_properties"] == {"tier": "gold"}


async def test_defaults_are_githubs(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = (await client.post("/orgs/acme/repos", headers=auth, json={"name": "plain"})).json()
    assert (body["has_issues"], body["has_wiki"], body["allow_merge_commit"]) == (True, True, True)
    assert (body["allow_auto_merge"], body["delete_branch_on_merge"]) == (False, False)
    assert (body["squash_merge_commit_title"], body["merge_commit_message"]) == (
        "COMMIT_OR_PR_TITLE",
        "PR_TITLE",
    )
    assert (body["topics"], body["custom_properties"], body["archived"]) == ([], {}, False)


async def test_fields_the_description_lacks_are_ignored(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.post(
        "/orgs/acme/repos", headers=auth, json={"name": "d", "has_discussions": True}
    )
    assert r.status_code == 201
    assert r.json()["has_discussions"] is False  # GitHub ignores it on org repositories
    assert sandbox.spec_violations == []


async def test_internal_needs_an_enterprise_org(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    body = {"name": "inside", "visibility": "internal"}
    r = await client.post("/orgs/acme/repos", headers=auth, json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "visibility"
    assert sandbox.repository(ORG, "inside") is None
    sandbox.set_enterprise(ORG)
    r = await client.post("/orgs/acme/repos", headers=auth, json=body)
    assert r.status_code == 201
    assert (r.json()["visibility"], r.json()["private"]) == ("internal", True)
    assert sandbox.spec_violations == []  # GitHub Enterprise Cloud's description has it


@pytest.mark.parametrize(
    ("properties", "why"),
    [
        ({"unknown": "x"}, "not defined"),
        ({"tier": "bronze"}, "not allowed"),
        ({"tier": ["gold"]}, "takes a string"),
    ],
)
async def test_custom_properties_must_fit_the_schema(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    auth: dict[str, str],
    properties: dict[str, object],
    why: str,
) -> None:
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    body = {"name": "p", "custom_properties": properties}
    r = await client.post("/orgs/acme/repos", headers=auth, json=body)
    assert r.status_code == 422
    assert why in r.json()["errors"][0]["message"]
    assert sandbox.repository(ORG, "p") is None


async def test_required_properties_start_at_their_default(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.define_property(ORG, "owner-team", required=True, default_value="platform")
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "p"})
    assert r.json()["custom_properties"] == {"owner-team": "platform"}


async def test_patch_changes_settings_and_name(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "old", private=False)
    change = {
        "name": "new name",
        "description": "changed",
        "private": True,
        "has_wiki": False,
        "allow_update_branch": True,
        "web_commit_signoff_required": True,
        "security_and_analysis": {"secret_scanning": {"status": "enabled"}},
    }
    r = await client.patch("/repos/acme/old", headers=auth, json=change)
    assert r.status_code == 200
    body = r.json()
    assert (body["name"], body["description"], body["visibility"]) == (
        "new-name",
        "changed",
        "private",
    )
    assert (body["has_wiki"], body["allow_update_branch"]) == (False, True)
    assert body["security_and_analysis"]["secret_scanning"] == {"status": "enabled"}
    assert (await client.get("/repos/acme/old", headers=auth)).status_code == 404
    got = (await client.get("/repos/acme/new-name", headers=auth)).json()
    assert got["web_commit_signoff_required"] is True


async def test_patch_refusals_change_nothing(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "a", files={"README.md": "x"})
    sandbox.add_repository(ORG, "b")
    r = await client.patch("/repos/acme/a", headers=auth, json={"name": "B", "has_wiki": False})
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "name already exists on this account"
    r = await client.patch("/repos/acme/a", headers=auth, json={"default_branch": "dev"})
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "default_branch")
    r = await client.patch("/repos/acme/b", headers=auth, json={"default_branch": "dev"})
    assert r.status_code == 422
    assert "empty repository" in r.json()["message"]
    r = await client.patch("/repos/acme/a", headers=auth, json={"visibility": "internal"})
    assert r.status_code == 422
    assert (await client.get("/repos/acme/a", headers=auth)).json()["has_wiki"] is True


def _put_file(text: str) -> dict[str, str]:
    return {"message": "m", "content": base64.b64encode(text.encode()).decode()}


async def test_an_archived_repository_is_read_only(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "arch", files={"README.md": "x"})
    r = await client.patch("/repos/acme/arch", headers=auth, json={"archived": True})
    assert (r.status_code, r.json()["archived"]) == (200, True)
    writes = [
        ("PUT", "/repos/acme/arch/contents/new.txt", _put_file("y")),
        ("PUT", "/repos/acme/arch/topics", {"names": ["a"]}),
        ("POST", "/repos/acme/arch/actions/variables", {"name": "V", "value": "1"}),
        ("PATCH", "/repos/acme/arch", {"description": "no"}),
        ("PUT", "/repos/acme/arch/environments/prod", {}),
    ]
    for method, path, body in writes:
        r = await client.request(method, path, headers=auth, json=body)
        assert r.status_code == 403, (method, path)
        assert r.json()["message"] == "Repository was archived so is read-only."
    assert (
        await client.get("/repos/acme/arch/contents/README.md", headers=auth)
    ).status_code == 200
    r = await client.patch("/repos/acme/arch", headers=auth, json={"archived": False})
    assert (r.status_code, r.json()["archived"]) == (200, False)
    r = await client.put("/repos/acme/arch/topics", headers=auth, json={"names": ["a"]})
    assert r.status_code == 200


async def test_an_archived_repository_can_be_deleted(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "arch")
    await client.patch("/repos/acme/arch", headers=auth, json={"archived": True})
    assert (await client.delete("/repos/acme/arch", headers=auth)).status_code == 204
    assert sandbox.repository(ORG, "arch") is None


async def test_list_org_repositories(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "b", private=False)
    sandbox.add_repository(ORG, "a")
    sandbox.add_repository("foreign", "c")
    r = await client.get("/orgs/acme/repos", headers=auth, params={"sort": "full_name"})
    assert [x["name"] for x in r.json()] == ["a", "b"]
    r = await client.get("/orgs/acme/repos", headers=auth, params={"type": "public"})
    assert [x["name"] for x in r.json()] == ["b"]
    assert (await client.get("/user/repos", headers=auth)).status_code == 403

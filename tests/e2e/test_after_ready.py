"""After ready, over real processes: changes, If-Match, secrets, archive and purge."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from cli.harness import plain_dsn
from provisioner_client import ApiError, ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH
from tests.e2e.after_ready_helpers import requests_to, status_is, synced, wait_for, writes
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

stack = module_stack("after_ready", redis_db=3)


async def _ready(client: ProjectsClient, name: str, **fields: Any) -> dict[str, Any]:
    created = await client.create(name, **fields)
    return await client.wait_until_ready(created["id"], timeout_s=60, poll_s=5)


async def test_a_topics_change_sends_the_topics_and_the_file_that_records_them(
    stack: Stack,
) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "topics")) as client:
        project = await _ready(client, "Topic Bot", repository={"topics": ["one"]})
        stack.sandbox.reset_requests()
        changed = await client.update(project["id"], repository={"topics": ["one", "two"]})
        assert changed["status"] == "ready"
        assert changed["sync"] == {"generation": 1, "state": "pending", "last_error": None}
        done = await wait_for(client, project["id"], synced(1))
    assert done["sync"]["state"] == "applied"
    assert done["status"] == "ready"
    repo = stack.sandbox.repository(ORG, "topic-bot")
    assert repo is not None and repo.topics == ["one", "two"]
    assert b"- two" in repo.files[PROJECT_FILE_PATH]
    assert writes(stack.sandbox) == [
        f"PUT /repos/{ORG}/topic-bot/topics",
        f"PUT /repos/{ORG}/topic-bot/contents/.project.yaml",
    ]
    assert [r for r in requests_to(stack.sandbox, "topic-bot") if r.startswith("GET")] == []


async def test_fields_and_description_go_in_one_patch_and_config_only_in_the_file(
    stack: Stack,
) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "fields")) as client:
        project = await _ready(client, "Field Bot", description="old")
        stack.sandbox.reset_requests()
        await client.update(
            project["id"],
            description="new words",
            repository={"homepage": "https://example.org", "features": {"wiki": False}},
        )
        await wait_for(client, project["id"], synced(1))
        stack.sandbox.reset_requests()
        await client.update(project["id"], config={"model": "large"})
        done = await wait_for(client, project["id"], synced(2))
    assert done["config"] == {"model": "large"}
    assert writes(stack.sandbox) == [f"PUT /repos/{ORG}/field-bot/contents/.project.yaml"]
    repo = stack.sandbox.repository(ORG, "field-bot")
    assert repo is not None and repo.description == "new words"
    assert repo.settings.get("homepage") == "https://example.org"
    assert repo.settings.get("has_wiki") is False
    assert b"model: large" in repo.files[PROJECT_FILE_PATH]


async def test_a_removed_setting_is_removed_on_github(stack: Stack) -> None:
    stack.sandbox.add_team(ORG, "platform")
    asked = {
        "teams": {"platform": "push"},
        "variables": {"KEEP": "1", "DROP": "2"},
        "protection": {"required_approvals": 1},
        "topics": ["a"],
    }
    async with ProjectsClient(stack.api_url, await stack.token("user", "removal")) as client:
        project = await _ready(client, "Removal Bot", repository=asked)
        repo = stack.sandbox.repository(ORG, "removal-bot")
        assert repo is not None and repo.team_access and repo.rulesets
        await client.update(
            project["id"],
            repository={"teams": None, "variables": {"DROP": None}, "protection": None,
                        "topics": None},
        )  # fmt: skip
        done = await wait_for(client, project["id"], synced(1))
    assert done["sync"]["state"] == "applied"
    assert [s["setting"] for s in done["settings"]] == ["variables.KEEP"]
    assert repo.team_access == {}
    assert set(repo.variables) == {"KEEP"}
    assert repo.rulesets == {}
    assert repo.topics == []


async def test_if_match_is_required_and_must_be_current(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "etags")) as client:
        project = await _ready(client, "Etag Bot")
    headers = {"Authorization": f"Bearer {await stack.token('user', 'etags')}"}
    url = f"{stack.api_url}/api/projects/{project['id']}"
    async with httpx.AsyncClient(headers=headers) as http:
        etag = (await http.get(url)).headers["etag"]
        patch = {"Content-Type": "application/merge-patch+json"}
        missing = await http.patch(url, json={"description": "x"}, headers=patch)
        assert (missing.status_code, missing.json()["error"]) == (428, "precondition_required")
        stale = await http.patch(
            url, json={"description": "x"}, headers={**patch, "If-Match": 'W/"other.1"'}
        )
        assert (stale.status_code, stale.json()["error"]) == (412, "precondition_failed")
        bad = await http.patch(
            url, json={"repository": {"topics": ["Bad Topic"]}}, headers={**patch, "If-Match": etag}
        )
        assert (bad.status_code, bad.json()["field"]) == (422, "repository.topics[0]")
        name = await http.patch(url, json={"name": "x"}, headers={**patch, "If-Match": etag})
        assert (name.status_code, name.json()["field"]) == (422, "name")
        secrets = await http.patch(
            url, json={"config": {"secrets": {"A": "b"}}}, headers={**patch, "If-Match": etag}
        )
        assert (secrets.status_code, secrets.json()["field"]) == (422, "config.secrets")
        ok = await http.patch(url, json={"description": "x"}, headers={**patch, "If-Match": etag})
        assert ok.status_code == 202
        assert ok.headers["etag"] != etag
        again = await http.patch(
            url, json={"description": "y"}, headers={**patch, "If-Match": etag}
        )
        assert again.status_code == 412
    async with ProjectsClient(stack.api_url, await stack.token("user", "someone-else")) as other:
        with pytest.raises(ApiError) as caught:
            await other.update(project["id"], description="mine now")
        assert caught.value.status == 404


async def test_an_agent_polling_during_an_update_only_ever_sees_ready(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "agent")) as client:
        project = await _ready(client, "Agent Bot", repository={"topics": ["x"]})
        seen: list[str] = []
        etag: str | None = None
        await client.update(project["id"], repository={"topics": ["x", "y"]}, description="d")
        current: dict[str, Any] = project
        while (current.get("sync") or {}).get("state") not in ("applied", "failed"):
            changed, etag = await client.wait_for_change(project["id"], wait_s=10, etag=etag)
            if changed is not None:
                current = changed
                seen.append(current["status"])
                assert current["repo_info"] is not None
    assert set(seen) == {"ready"}
    assert current["sync"]["state"] == "applied"


async def test_a_secret_is_rotated_added_and_removed_and_never_shown(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "secrets")) as client:
        project = await _ready(client, "Secret Bot", secrets={"API_KEY": "first-value"})
        repo = stack.sandbox.repository(ORG, "secret-bot")
        assert repo is not None and repo.secrets == {"API_KEY": "first-value"}
        rotated = await client.set_secret(project["id"], "API_KEY", "second-value")
        assert "second-value" not in str(rotated)
        assert rotated["secrets"] == [{"name": "API_KEY", "state": "pending"}]
        await wait_for(client, project["id"], synced(1))
        assert repo.secrets == {"API_KEY": "second-value"}  # decrypted by the sandbox
        await client.set_secret(project["id"], "NEW_TOKEN", "third-value")
        added = await wait_for(client, project["id"], synced(2))
        assert added["secrets"] == [
            {"name": "API_KEY", "state": "set"},
            {"name": "NEW_TOKEN", "state": "set"},
        ]
        assert b"NEW_TOKEN" in repo.files[PROJECT_FILE_PATH]
        removing = await client.remove_secret(project["id"], "API_KEY")
        assert {"name": "API_KEY", "state": "removing"} in removing["secrets"]
        removed = await wait_for(client, project["id"], synced(3))
        assert removed["secrets"] == [{"name": "NEW_TOKEN", "state": "set"}]
        assert repo.secrets == {"NEW_TOKEN": "third-value"}
        with pytest.raises(ApiError) as caught:
            await client.remove_secret(project["id"], "API_KEY")
        assert (caught.value.status, caught.value.error) == (404, "secret_not_found")
        with pytest.raises(ApiError) as caught:
            await client.set_secret(project["id"], "GITHUB_TOKEN", "x")
        assert (caught.value.status, caught.value.field) == (422, "name")
        events = [e["kind"] for e in await client.events(project["id"])]
    assert "third-value" not in str(events)
    assert events.count("secret_set_requested") == 2
    connection = await asyncpg.connect(plain_dsn(stack.database_url))
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM project_secrets WHERE project_id = $1 AND ciphertext IS NOT NULL",
            uuid.UUID(project["id"]),
        )
    finally:
        await connection.close()
    assert stored == 0


async def test_archive_then_purge_and_the_name_is_free_again(stack: Stack) -> None:
    user = await stack.token("user", "archive")
    async with (
        ProjectsClient(stack.api_url, user) as client,
        ProjectsClient(stack.api_url, await stack.token("ops", "ops")) as ops,
    ):
        project = await _ready(client, "Archive Bot", secrets={"K": "v"})
        archiving = await client.archive(project["id"])
        assert archiving["status"] in ("archiving", "archived")
        archived = await wait_for(client, project["id"], status_is("archived"))
        repo = stack.sandbox.repository(ORG, "archive-bot")
        assert repo is not None and repo.archived
        assert (await client.archive(project["id"]))["status"] == "archived"  # idempotent
        with pytest.raises(ApiError) as caught:
            await client.archive(project["id"], purge=True)
        assert caught.value.status == 403
        with pytest.raises(ApiError) as caught:
            await client.update(project["id"], description="too late")
        assert (caught.value.status, caught.value.error) == (409, "not_changeable")
        await ops.archive(project["id"], purge=True)
        await wait_for(client, project["id"], status_is("deleted"))
        assert stack.sandbox.repository(ORG, "archive-bot") is None
        again = await _ready(client, "Archive Bot")
        assert again["repo_info"]["full_name"] == f"{ORG}/archive-bot"
        kinds = [e["kind"] for e in await ops.events(project["id"])]
    assert archived["secrets"] == [{"name": "K", "state": "set"}]
    assert kinds[-4:] == ["archive_requested", "archived", "archive_requested", "deleted"]


async def test_an_archive_asked_during_provisioning_waits_for_the_attempt(stack: Stack) -> None:
    stack.sandbox.fail_next("POST", f"/orgs/{ORG}/repos", status=502, times=3)
    async with ProjectsClient(stack.api_url, await stack.token("user", "early")) as client:
        created = await client.create("Early Bot", secrets={"K": "v"})
        retrying = await wait_for(client, created["id"], lambda p: p["last_error"] is not None)
        assert retrying["status"] == "provisioning"
        asked = await client.archive(created["id"])
        assert asked["status"] == "provisioning"  # not cut short: the next attempt hands over
        done = await wait_for(client, created["id"], status_is("archived"))
        kinds = [e["kind"] for e in await client.events(created["id"])]
    assert done["status"] == "archived"
    assert "archive_requested" in kinds and kinds[-1] == "archived"
    assert stack.sandbox.repository(ORG, "early-bot") is None

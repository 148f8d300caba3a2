"""Drift over real processes: each kind restored within one check with its event, the
schedule, a repository lost behind our back, and webhooks (signature, replay)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from provisioner_client import ApiError, ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH
from shared.webhooks import sign
from tests.e2e.after_ready_helpers import status_is, wait_for
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

WEBHOOK_SECRET = "webhook-test-secret"
stack = module_stack(
    "drift",
    redis_db=4,
    GITHUB_WEBHOOK_SECRET=WEBHOOK_SECRET,
    RECONCILE_INTERVAL_S="3600",
)

EVERYTHING: dict[str, Any] = {
    "homepage": "https://example.com",
    "features": {"wiki": False},
    "topics": ["agents", "python"],
    "teams": {"platform": "maintain"},
    "collaborators": {"octo": "push"},
    "variables": {"PYTHON_VERSION": "3.12"},
    "environments": {"production": {"wait_timer": 5}},
    "custom_properties": {"cost_center": "cc-1"},
    "protection": {"required_approvals": 1},
}


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    stack.sandbox.add_team(ORG, "platform")
    stack.sandbox.add_user("octo", member_of=[ORG])
    stack.sandbox.define_property(ORG, "cost_center")
    return stack


async def _ready(client: ProjectsClient, name: str, **fields: Any) -> dict[str, Any]:
    created = await client.create(name, **fields)
    return await client.wait_until_ready(created["id"], timeout_s=60, poll_s=5)


async def _reconciled(ops: ProjectsClient, project: dict[str, Any]) -> dict[str, Any]:
    """Ask for a check and return the project once it ran; its drift events with it."""
    before = (await ops.get(project["id"]))["last_reconciled_at"]
    await ops.reconcile(project["id"])
    return await wait_for(ops, project["id"], lambda p: p["last_reconciled_at"] != before)


async def _corrections(ops: ProjectsClient, project_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for event in await ops.events(project_id):
        if event["kind"] == "drift_corrected":
            found.update(event["data"]["settings"])
    return found


async def test_a_check_of_an_untouched_repository_corrects_nothing(seeded: Stack) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "Clean Bot", repository=EVERYTHING)
        seeded.sandbox.reset_requests()
        await _reconciled(ops, project)
        assert await _corrections(ops, project["id"]) == {}
    writes = [r for r in seeded.sandbox.requests if r.method != "GET"]
    assert [f"{r.method} {r.path}" for r in writes if "access_tokens" not in r.path] == []


async def test_each_kind_of_drift_is_restored_in_one_check(seeded: Stack) -> None:
    sandbox = seeded.sandbox
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "Drift Bot", repository=EVERYTHING, description="declared")
        repo = sandbox.repository(ORG, "drift-bot")
        assert repo is not None
        (ruleset_id,) = repo.rulesets
        team_id = next(iter(repo.team_access))
        sandbox.edit_repository(ORG, "drift-bot", homepage="https://evil.example", has_wiki=True,
                                description="changed by hand")  # fmt: skip
        sandbox.set_topics(ORG, "drift-bot", ["other"])
        sandbox.set_team_access(ORG, "drift-bot", "platform", None)
        sandbox.set_collaborator(ORG, "drift-bot", "octo", "admin")
        sandbox.set_variable(ORG, "drift-bot", "PYTHON_VERSION", "2.7")
        sandbox.delete_ruleset(ORG, "drift-bot", ruleset_id)
        sandbox.delete_environment(ORG, "drift-bot", "production")
        sandbox.set_property_values(ORG, "drift-bot", {"cost_center": "cc-hacked"})
        sandbox.write_file(ORG, "drift-bot", PROJECT_FILE_PATH, "id: someone-else\n")
        done = await _reconciled(ops, project)
        fixed = await _corrections(ops, project["id"])
    assert done["status"] == "ready"
    assert set(fixed) >= {
        "homepage",
        "features",
        "description",
        "topics",
        "teams.platform",
        "collaborators.octo",
        "variables.PYTHON_VERSION",
        "protection",
        "environments.production",
        "custom_properties",
        ".project.yaml",
    }
    assert fixed["variables.PYTHON_VERSION"] == {"was": "2.7", "now": "3.12"}
    assert fixed["topics"]["now"] == ["agents", "python"]
    assert repo.topics == ["agents", "python"]
    assert repo.settings.get("homepage") == "https://example.com"
    assert repo.description == "declared"
    assert repo.team_access.get(team_id) == "maintain"
    assert repo.variables["PYTHON_VERSION"].value == "3.12"
    assert len(repo.rulesets) == 1 and ruleset_id not in repo.rulesets
    assert "production" in repo.environments
    assert repo.custom_properties["cost_center"] == "cc-1"
    assert str(project["id"]).encode() in repo.files[PROJECT_FILE_PATH]


async def test_a_deleted_project_file_is_restored(seeded: Stack) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "File Bot")
        seeded.sandbox.delete_file(ORG, "file-bot", PROJECT_FILE_PATH)
        await _reconciled(ops, project)
        assert ".project.yaml" in await _corrections(ops, project["id"])
    repo = seeded.sandbox.repository(ORG, "file-bot")
    assert repo is not None and PROJECT_FILE_PATH in repo.files


async def test_reconcile_is_for_ops(seeded: Stack) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("user", "someone")) as client:
        project = await _ready(client, "Mine Bot")
        with pytest.raises(ApiError) as caught:
            await client.reconcile(project["id"])
        assert caught.value.status == 403


async def test_a_repository_deleted_behind_our_back_is_missing_until_retried(
    seeded: Stack,
) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "Lost Bot", secrets={"K": "v"}, repository={"topics": ["t"]})
        seeded.sandbox.delete_repository(ORG, "lost-bot")
        await ops.reconcile(project["id"])
        missing = await wait_for(ops, project["id"], status_is("repo_missing"))
        assert missing["repo_info"] is None
        kinds = [e["kind"] for e in await ops.events(project["id"])]
        assert kinds[-1] == "repo_missing"
        await ops.set_secret(project["id"], "K", "v2")  # the lost value, given again
        await ops.retry(project["id"])
        again = await ops.wait_until_ready(project["id"], timeout_s=60, poll_s=5)
    repo = seeded.sandbox.repository(ORG, "lost-bot")
    assert repo is not None and repo.topics == ["t"] and repo.secrets == {"K": "v2"}
    assert again["secrets"] == [{"name": "K", "state": "set"}]
    assert again["generation"] == 2


async def test_a_repository_archived_behind_our_back_is_unarchived_by_the_retry(
    seeded: Stack,
) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "Frozen Bot", secrets={"K": "v"})
        seeded.sandbox.archive_repository(ORG, "frozen-bot")
        await ops.reconcile(project["id"])
        await wait_for(ops, project["id"], status_is("repo_missing"))
        await ops.retry(project["id"])
        again = await ops.wait_until_ready(project["id"], timeout_s=60, poll_s=5)
    repo = seeded.sandbox.repository(ORG, "frozen-bot")
    assert repo is not None and not repo.archived
    assert again["secrets"] == [{"name": "K", "state": "set"}]  # the repository kept it


def _delivery(
    event: str, payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), body),
        "Content-Type": "application/json",
    }
    return body, headers


async def test_a_signed_webhook_reconciles_its_project_once(seeded: Stack) -> None:
    async with ProjectsClient(seeded.api_url, await seeded.token("ops", "ops")) as ops:
        project = await _ready(ops, "Hook Bot", repository={"topics": ["hooked"]})
        repo = seeded.sandbox.repository(ORG, "hook-bot")
        assert repo is not None
        seeded.sandbox.set_topics(ORG, "hook-bot", [])
        before = (await ops.get(project["id"]))["last_reconciled_at"]
        body, headers = _delivery("repository", {"action": "edited", "repository": {"id": repo.id}})
        url = f"{seeded.api_url}/api/github/webhooks"
        async with httpx.AsyncClient() as http:
            first = await http.post(url, content=body, headers=headers)
            replay = await http.post(url, content=body, headers=headers)
        assert first.status_code == 202, first.text
        assert first.json()["outcome"] == "reconciling"
        assert replay.json()["outcome"] == "replayed"
        await wait_for(ops, project["id"], lambda p: p["last_reconciled_at"] != before)
        kinds = [e["kind"] for e in await ops.events(project["id"])]
    assert repo.topics == ["hooked"]
    assert kinds.count("webhook_received") == 1


async def test_a_badly_signed_webhook_is_refused(seeded: Stack) -> None:
    url = f"{seeded.api_url}/api/github/webhooks"
    body, headers = _delivery("repository", {"repository": {"id": 1}}, secret="wrong")
    async with httpx.AsyncClient() as http:
        bad = await http.post(url, content=body, headers=headers)
        unsigned = await http.post(
            url, content=body, headers={k: v for k, v in headers.items() if "Signature" not in k}
        )
        other = await http.post(url, content=body + b" ", headers=_delivery("x", {})[1])
    for answer in (bad, unsigned, other):
        assert answer.status_code == 401
        assert answer.json()["error"] == "webhook_signature_invalid"


async def test_an_unwatched_event_is_ignored(seeded: Stack) -> None:
    body, headers = _delivery("push", {"repository": {"id": 1}})
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{seeded.api_url}/api/github/webhooks", content=body, headers=headers
        )
    assert (answer.status_code, answer.json()["outcome"]) == (202, "ignored")

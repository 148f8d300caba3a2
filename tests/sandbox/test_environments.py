"""Deployment environments: create or update, the wait timer's bounds, reviewers, delete."""

from __future__ import annotations

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

ENV = "/repos/acme/r/environments/production"


@pytest.fixture
def repo(sandbox: GitHubSandbox) -> None:
    sandbox.add_repository(ORG, "r")


async def test_create_update_get_delete(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, repo: None, auth: dict[str, str]
) -> None:
    alice = sandbox.add_user("alice")
    team = sandbox.add_team(ORG, "platform")
    assert (await client.get(ENV, headers=auth)).status_code == 404
    body = {
        "wait_timer": 30,
        "prevent_self_review": True,
        "reviewers": [{"type": "User", "id": alice.id}, {"type": "Team", "id": team.id}],
        "deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": False},
    }
    r = await client.put(ENV, headers=auth, json=body)
    assert r.status_code == 200
    created = r.json()
    rules = {rule["type"]: rule for rule in created["protection_rules"]}
    assert rules["wait_timer"]["wait_timer"] == 30
    assert [x["reviewer"]["id"] for x in rules["required_reviewers"]["reviewers"]] == [
        alice.id,
        team.id,
    ]
    r = await client.put(ENV, headers=auth, json={"wait_timer": 0})
    assert r.json()["id"] == created["id"]  # updated in place
    rules = {rule["type"]: rule for rule in r.json()["protection_rules"]}
    assert "wait_timer" not in rules
    assert "required_reviewers" in rules  # not sent: kept
    assert (
        await client.get("/repos/acme/r/environments/PRODUCTION", headers=auth)
    ).status_code == 200
    assert (await client.delete(ENV, headers=auth)).status_code == 204
    assert (await client.get(ENV, headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"wait_timer": 43_200}, 200),
        ({"wait_timer": 43_201}, 422),
        ({"wait_timer": -1}, 422),
        ({"reviewers": [{"type": "User", "id": 12345}]}, 422),
    ],
)
async def test_refusals(
    client: httpx.AsyncClient,
    repo: None,
    auth: dict[str, str],
    body: dict[str, object],
    status: int,
) -> None:
    assert (await client.put(ENV, headers=auth, json=body)).status_code == status

"""Rulesets (names unique per repository, stored as sent) and classic branch protection."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

RULESETS = "/repos/acme/r/rulesets"
PROTECTION = "/repos/acme/r/branches/main/protection"
RULESET = {
    "name": "main",
    "target": "branch",
    "enforcement": "active",
    "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "rules": [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {"type": "required_linear_history"},
        {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": 1,
                "dismiss_stale_reviews_on_push": True,
                "require_code_owner_review": False,
                "require_last_push_approval": False,
                "required_review_thread_resolution": False,
            },
        },
    ],
}


@pytest.fixture
def repo(sandbox: GitHubSandbox) -> None:
    sandbox.add_repository(ORG, "r", files={"README.md": "x"})
    sandbox.add_user("alice")
    sandbox.add_team(ORG, "platform")


async def test_ruleset_lifecycle(
    client: httpx.AsyncClient, repo: None, auth: dict[str, str]
) -> None:
    r = await client.post(RULESETS, headers=auth, json=RULESET)
    assert r.status_code == 201
    created = r.json()
    assert (created["rules"], created["conditions"]) == (RULESET["rules"], RULESET["conditions"])
    assert (created["source_type"], created["source"]) == ("Repository", "acme/r")
    path = f"{RULESETS}/{created['id']}"
    assert (await client.get(path, headers=auth)).json()["rules"] == RULESET["rules"]
    listed = (await client.get(RULESETS, headers=auth)).json()
    assert [(x["id"], x["name"]) for x in listed] == [(created["id"], "main")]
    r = await client.put(
        path, headers=auth, json={"enforcement": "evaluate", "rules": [{"type": "deletion"}]}
    )
    assert (r.status_code, r.json()["enforcement"], r.json()["rules"]) == (
        200,
        "evaluate",
        [{"type": "deletion"}],
    )
    assert r.json()["conditions"] == RULESET["conditions"]  # not sent: kept
    assert (await client.delete(path, headers=auth)).status_code == 204
    assert (await client.get(path, headers=auth)).status_code == 404
    assert (await client.delete(path, headers=auth)).status_code == 404


async def test_ruleset_names_are_unique_per_repository(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, repo: None, auth: dict[str, str]
) -> None:
    first = (await client.post(RULESETS, headers=auth, json=RULESET)).json()
    r = await client.post(RULESETS, headers=auth, json={**RULESET, "name": "MAIN"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == "Name must be unique"
    other = (await client.post(RULESETS, headers=auth, json={**RULESET, "name": "other"})).json()
    r = await client.put(f"{RULESETS}/{other['id']}", headers=auth, json={"name": "main"})
    assert r.status_code == 422
    r = await client.put(f"{RULESETS}/{first['id']}", headers=auth, json={"name": "main"})
    assert r.status_code == 200  # its own name
    sandbox.add_repository(ORG, "r2", files={"README.md": "x"})
    r = await client.post("/repos/acme/r2/rulesets", headers=auth, json=RULESET)
    assert r.status_code == 201


PROTECT: dict[str, Any] = {
    "required_status_checks": {"strict": True, "contexts": ["ci/test"]},
    "enforce_admins": True,
    "required_pull_request_reviews": {
        "required_approving_review_count": 2,
        "dismiss_stale_reviews": True,
        "dismissal_restrictions": {"users": ["alice"], "teams": ["platform"]},
    },
    "restrictions": {"users": ["alice"], "teams": ["platform"], "apps": []},
    "required_linear_history": True,
    "allow_force_pushes": False,
}


async def test_branch_protection_is_stored_as_sent(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, repo: None, auth: dict[str, str]
) -> None:
    r = await client.get(PROTECTION, headers=auth)
    assert (r.status_code, r.json()["message"]) == (404, "Branch not protected")
    r = await client.put(PROTECTION, headers=auth, json=PROTECT)
    assert r.status_code == 200
    got = (await client.get(PROTECTION, headers=auth)).json()
    assert got["required_status_checks"]["contexts"] == ["ci/test"]
    assert got["enforce_admins"]["enabled"] is True
    reviews = got["required_pull_request_reviews"]
    assert reviews["required_approving_review_count"] == 2
    assert [u["login"] for u in reviews["dismissal_restrictions"]["users"]] == ["alice"]
    assert [t["slug"] for t in got["restrictions"]["teams"]] == ["platform"]
    assert got["required_linear_history"] == {"enabled": True}
    stored = sandbox.repository(ORG, "r")
    assert stored is not None
    assert stored.protection["main"] == PROTECT
    assert (await client.delete(PROTECTION, headers=auth)).status_code == 204
    assert (await client.get(PROTECTION, headers=auth)).status_code == 404


async def test_branch_protection_refusals(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, repo: None, auth: dict[str, str]
) -> None:
    r = await client.put("/repos/acme/r/branches/dev/protection", headers=auth, json=PROTECT)
    assert (r.status_code, r.json()["message"]) == (404, "Branch not found")
    sandbox.add_repository(ORG, "empty")
    r = await client.put("/repos/acme/empty/branches/main/protection", headers=auth, json=PROTECT)
    assert r.status_code == 404
    ghost = {**PROTECT, "restrictions": {"users": ["ghost"], "teams": []}}
    assert (await client.put(PROTECTION, headers=auth, json=ghost)).status_code == 422
    assert (await client.get(PROTECTION, headers=auth)).status_code == 404  # nothing stored
    assert (await client.delete(PROTECTION, headers=auth)).status_code == 404

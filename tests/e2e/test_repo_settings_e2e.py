"""Repository settings over real processes: asked, validated at the edge, applied, shown."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner_client import ApiError, ProjectFailed, ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

stack = module_stack("settings", redis_db=5)


async def test_settings_are_applied_and_shown(stack: Stack) -> None:
    stack.sandbox.add_team(ORG, "platform")
    asked: dict[str, Any] = {
        "homepage": "https://example.com",
        "topics": ["python", "agents"],
        "teams": {"platform": "maintain"},
        "variables": {"PYTHON_VERSION": "3.12"},
        "protection": {"required_approvals": 1, "status_checks": ["ci"]},
    }
    async with ProjectsClient(stack.api_url, await stack.token("user", "settings")) as client:
        created = await client.create("Settings Bot", repository=asked)
        assert created["repository"] == {
            **asked,
            "protection": {
                "required_approvals": 1,
                "code_owner_review": False,
                "dismiss_stale_reviews": False,
                "status_checks": ["ci"],
                "linear_history": False,
                "block_force_push": True,
            },
        }
        assert {s["state"] for s in created["settings"]} == {"pending"}
        project = await client.wait_until_ready(created["id"], timeout_s=60, poll_s=0.05)
    assert [(s["setting"], s["state"]) for s in project["settings"]] == [
        ("homepage", "applied"),
        ("topics", "applied"),
        ("teams.platform", "applied"),
        ("variables.PYTHON_VERSION", "applied"),
        ("protection", "applied"),
    ]
    repo = stack.sandbox.repository(ORG, "settings-bot")
    assert repo is not None
    assert repo.topics == ["python", "agents"]
    assert len(repo.rulesets) == 1
    assert b"homepage: https://example.com" in repo.files[PROJECT_FILE_PATH]


async def test_a_malformed_setting_is_a_422_naming_it_and_nothing_is_stored(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "bad-input")) as client:
        with pytest.raises(ApiError) as caught:
            await client.create("Bad Topics", repository={"topics": ["ok", "fine", "Not OK"]})
        assert caught.value.status == 422
        assert caught.value.field == "repository.topics[2]"
        with pytest.raises(ApiError) as caught:
            await client.create("Bad Team", repository={"teams": {"Bad Slug": "push"}})
        assert caught.value.field == "repository.teams.Bad Slug"
        assert await client.list() == []


async def test_a_refused_setting_fails_the_project_naming_it(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "ghosts")) as client:
        created = await client.create("Ghost Team", repository={"teams": {"ghost": "push"}})
        with pytest.raises(ProjectFailed) as caught:
            await client.wait_until_ready(created["id"], timeout_s=60, poll_s=0.05)
        assert caught.value.code == "setting_rejected"
        assert caught.value.message == 'teams.ghost: no team "ghost" in acme'
        project = await client.get(created["id"])
    assert project["settings"] == [
        {
            "setting": "teams.ghost",
            "state": "failed",
            "code": "setting_rejected",
            "message": 'teams.ghost: no team "ghost" in acme',
        }
    ]

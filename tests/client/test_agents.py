"""prepare_developer_task on its own, against an in-memory API (the real one: tests/agents)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from provisioner_client import ProjectsClient, prepare_developer_task, repo_info_of

REPO_INFO = {
    "owner": "acme",
    "name": "bot",
    "full_name": "acme/bot",
    "html_url": "https://github.com/acme/bot",
    "clone_url": "https://github.com/acme/bot.git",
    "default_branch": "main",
}
READY = {"id": "p1", "name": "Bot", "status": "ready", "repo_info": {**REPO_INFO, "id": 7}}


def _api(request: httpx.Request) -> httpx.Response:
    if request.method == "POST" and request.url.path == "/api/projects/p1/token":
        return httpx.Response(
            201,
            json={"token": "ghs_secret", "expires_at": "2030-01-01T00:00:00Z",
                  "permissions": {"contents": "write"}},
        )  # fmt: skip
    return httpx.Response(200, json=READY)


async def _task(state: dict[str, Any], **options: Any) -> Any:
    async with ProjectsClient("http://api", "t", transport=httpx.MockTransport(_api)) as client:
        return await prepare_developer_task(state, client, **options)


async def test_the_task_names_the_existing_repository_and_keeps_the_token_out() -> None:
    task = await _task({"project_id": "p1", "task": "Add a bot"})
    assert task.repo_info == REPO_INFO  # exactly the six keys, as strings
    assert task.token == "ghs_secret"
    assert task.permissions == {"contents": "write"}
    assert "ghs_secret" not in repr(task)
    assert task.state_update() == {"repo_info": REPO_INFO, "task_message": task.message}
    assert "acme/bot already exists: do not create it" in task.message
    assert task.message.endswith("Task:\nAdd a bot")


async def test_a_state_naming_another_repository_is_refused() -> None:
    with pytest.raises(ValueError, match="acme/other"):
        await _task({"project_id": "p1", "repo_info": {"full_name": "acme/other"}})


def test_repo_info_needs_a_ready_project() -> None:
    with pytest.raises(ValueError, match="no repository yet"):
        repo_info_of({"id": "p1", "status": "pending_repo", "repo_info": None})

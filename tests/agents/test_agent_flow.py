"""The agents' side against the real system: long-poll, repo_info, repository-scoped tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from provisioner_client import (
    ApiError,
    ProjectFailed,
    ProjectsClient,
    SyncProjectsClient,
    WaitTimedOut,
    prepare_developer_task,
    repo_info_of,
)
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

GITHUB_HEADERS = {"User-Agent": "fake-agent", "Accept": "application/vnd.github+json"}


stack = module_stack(
    "agents",
    redis_db=14,
    WORKER_BACKOFF_BASE_S="0.2",
    WORKER_BACKOFF_CAP_S="0.4",
    WORKER_RETRY_FOR_S="3600",  # faults here last as long as a test wants
)


@pytest_asyncio.fixture(loop_scope="module")
async def client(stack: Stack) -> AsyncIterator[ProjectsClient]:
    async with ProjectsClient(stack.api_url, await stack.token("user", "agent-owner")) as c:
        yield c


@pytest.fixture(autouse=True)
def _clean_faults(stack: Stack) -> None:
    stack.sandbox.clear_failures()


async def _github(stack: Stack, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=stack.env["GITHUB_API_URL"],
        headers={**GITHUB_HEADERS, "Authorization": f"Bearer {token}"},
    )


async def test_fake_agent_waits_reads_repo_info_and_pushes(
    stack: Stack, client: ProjectsClient
) -> None:
    other = await client.create("Other agent project")
    mine = await client.create("Agent project", description="for the fake agent")
    await client.wait_until_ready(other["id"], timeout_s=30)

    task = await prepare_developer_task({"project_id": mine["id"]}, client, request="Add a bot")
    assert task.repo_info == {
        "owner": ORG,
        "name": "agent-project",
        "full_name": f"{ORG}/agent-project",
        "html_url": f"https://github.com/{ORG}/agent-project",
        "clone_url": f"https://github.com/{ORG}/agent-project.git",
        "default_branch": "main",
    }
    assert task.state_update() == {"repo_info": task.repo_info, "task_message": task.message}
    assert "already exists: do not create it" in task.message
    assert "create the repository if" not in task.message.lower()
    assert task.token not in repr(task)
    assert task.permissions == {"contents": "write", "pull_requests": "write", "metadata": "read"}

    async with await _github(stack, task.token) as github:
        pushed = await github.put(
            "/repos/acme/agent-project/contents/bot.py",
            json={"message": "Add bot", "content": "cHJpbnQoJ2hpJykK"},
        )
        assert pushed.status_code == 201, pushed.text
        elsewhere = await github.get("/repos/acme/other-agent-project")
        assert elsewhere.status_code == 404
        create = await github.post("/orgs/acme/repos", json={"name": "sneaky", "private": True})
        assert create.status_code == 403
        stack.clock.advance(3601)
        try:
            expired = await github.get("/repos/acme/agent-project")
        finally:
            stack.clock.advance(-3601)
        assert expired.status_code == 401
    repo = stack.sandbox.repository(ORG, "agent-project")
    assert repo is not None
    assert repo.files["bot.py"] == b"print('hi')\n"
    assert stack.sandbox.repository(ORG, "sneaky") is None
    events = [e["kind"] for e in await client.events(mine["id"])]
    assert events[-1] == "token_minted"


async def test_long_poll_is_woken_by_the_transition(stack: Stack, client: ProjectsClient) -> None:
    stack.sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=502, times=1)
    project = await client.create("Woken by notify")
    first, etag = await client.wait_for_change(project["id"], wait_s=0)
    assert first is not None
    seen = [first["status"]]
    started = time.monotonic()
    while seen[-1] != "ready":
        changed, etag = await client.wait_for_change(project["id"], wait_s=30, etag=etag)
        assert changed is not None  # each answer is a change, never a 30 s timeout
        seen.append(changed["status"])
    assert time.monotonic() - started < 20  # woken by changes, not by the 30 s timeouts
    assert seen[-1] == "ready"
    assert "provisioning" in seen


async def test_unchanged_project_answers_304_at_timeout(
    stack: Stack, client: ProjectsClient
) -> None:
    project = await client.wait_until_ready((await client.create("Quiet one"))["id"])
    first, etag = await client.wait_for_change(project["id"], wait_s=0)
    assert first is not None
    again, same = await client.wait_for_change(project["id"], wait_s=0.3, etag=etag)
    assert again is None
    assert same == etag


async def test_wait_raises_with_the_error_code_on_failure(
    stack: Stack, client: ProjectsClient
) -> None:
    forbidden = {"message": "Resource not accessible by integration"}
    stack.sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=403, body=forbidden)
    project = await client.create("Doomed project")
    with pytest.raises(ProjectFailed) as caught:
        await client.wait_until_ready(project["id"], timeout_s=30)
    assert caught.value.code == "github_forbidden"
    assert "Resource not accessible" in caught.value.message
    with pytest.raises(ApiError) as refused:
        await client.repo_token(project["id"])
    assert (refused.value.status, refused.value.error) == (409, "repo_failed")


async def test_slow_project_times_out_cleanly(stack: Stack, client: ProjectsClient) -> None:
    stack.sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=503, times=10_000)
    project = await client.create("Slow project")
    with pytest.raises(WaitTimedOut) as caught:
        await client.wait_until_ready(project["id"], timeout_s=1.0)
    assert caught.value.project["status"] in ("pending_repo", "provisioning")
    with pytest.raises(ApiError) as refused:
        await client.repo_token(project["id"])
    assert (refused.value.status, refused.value.error) == (409, "not_ready")
    stack.sandbox.clear_failures()
    assert (await client.wait_until_ready(project["id"], timeout_s=30))["status"] == "ready"


async def test_wait_survives_an_api_restart(stack: Stack, client: ProjectsClient) -> None:
    stack.sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=503, times=10_000)
    project = await client.create("Restart survivor")
    waiting = asyncio.ensure_future(client.wait_until_ready(project["id"], timeout_s=60, poll_s=5))
    await stack.restart_api()
    assert not waiting.done()
    stack.sandbox.clear_failures()
    ready = await waiting
    assert ready["status"] == "ready"


async def test_token_roles(stack: Stack, client: ProjectsClient) -> None:
    project = await client.create("Token roles")
    await client.wait_until_ready(project["id"], timeout_s=30)
    service = ProjectsClient(stack.api_url, await stack.token("service", "langgraph"))
    ops = ProjectsClient(stack.api_url, await stack.token("ops", "oncall"))
    stranger = ProjectsClient(stack.api_url, await stack.token("user", "stranger"))
    async with service, ops, stranger:
        minted: dict[str, Any] = await service.repo_token(project["id"])
        assert minted["repository"] == f"{ORG}/token-roles"
        with pytest.raises(ApiError) as forbidden:
            await ops.repo_token(project["id"])
        assert forbidden.value.status == 403
        with pytest.raises(ApiError) as hidden:
            await stranger.repo_token(project["id"])
        assert hidden.value.status == 404
    assert repo_info_of(await client.get(project["id"]))["name"] == "token-roles"


async def test_sync_client_for_synchronous_nodes(stack: Stack) -> None:
    token = await stack.token("user", "sync-owner")

    def synchronous_node() -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        with SyncProjectsClient(stack.api_url, token) as client:
            created = client.create("Sync node project", secrets={"API_KEY": "x"})
            ready = client.wait_until_ready(created["id"], timeout_s=30)
            return ready, client.repo_token(created["id"]), client.list(status="ready")

    ready, minted, listed = await asyncio.to_thread(synchronous_node)
    assert ready["repo_info"]["full_name"] == f"{ORG}/sync-node-project"
    assert minted["repository"] == f"{ORG}/sync-node-project"
    assert [p["id"] for p in listed] == [ready["id"]]


class CountingTransport(httpx.AsyncHTTPTransport):
    """Records each request's URL."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await super().handle_async_request(request)


async def test_waiting_for_an_already_ready_project_is_one_immediate_request(
    stack: Stack, client: ProjectsClient
) -> None:
    project = await client.wait_until_ready((await client.create("Ready already"))["id"])
    transport = CountingTransport()
    token = await stack.token("service", "counting")
    async with ProjectsClient(stack.api_url, token, transport=transport) as counted:
        again = await counted.wait_until_ready(project["id"], timeout_s=120)
    assert again["status"] == "ready"
    assert len(transport.urls) == 1
    assert transport.urls[0].params.get("wait") == "0"  # not a long poll on a settled state

"""ProjectsClient on its own, against an in-memory API (the real one: tests/agents)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from provisioner_client import ApiError, ProjectFailed, ProjectsClient, WaitTimedOut

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler) -> ProjectsClient:
    return ProjectsClient("http://api/", "prv_t", transport=httpx.MockTransport(handler))


def _project(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "p1", "name": "Bot", "status": status, **fields}


async def test_requests_carry_the_token_and_errors_the_api_shape() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            422, json={"error": "invalid", "detail": "too long", "field": "body.name"}
        )

    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.create("x" * 300, secrets={"K": "v"})
    assert seen[0].url == "http://api/api/projects/"
    assert seen[0].headers["Authorization"] == "Bearer prv_t"
    error = caught.value
    assert (error.status, error.error, error.detail, error.field) == (
        422, "invalid", "too long", "body.name"
    )  # fmt: skip
    assert str(error) == "422 invalid (body.name): too long"


async def test_an_error_without_a_json_body_keeps_the_status() -> None:
    async with _client(lambda _: httpx.Response(502, text="<html>bad gateway</html>")) as client:
        with pytest.raises(ApiError) as caught:
            await client.get("p1")
    assert (caught.value.status, caught.value.error, caught.value.detail) == (
        502, "http_error", "Bad Gateway"
    )  # fmt: skip


async def test_list_follows_the_cursor_to_the_last_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "c2":
            return httpx.Response(200, json={"items": [{"id": "b"}], "next_cursor": None})
        return httpx.Response(200, json={"items": [{"id": "a"}], "next_cursor": "c2"})

    async with _client(handler) as client:
        assert [p["id"] for p in await client.list(status="ready")] == ["a", "b"]


async def test_wait_long_polls_with_the_etag_and_rides_out_a_5xx() -> None:
    answers = iter(
        [
            httpx.Response(200, json=_project("pending_repo"), headers={"ETag": '"1"'}),
            httpx.Response(503, json={"error": "unavailable", "detail": "restarting"}),
            httpx.Response(304, headers={"ETag": '"1"'}),
            httpx.Response(200, json=_project("ready"), headers={"ETag": '"2"'}),
        ]
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    async with _client(handler) as client:
        ready = await client.wait_until_ready("p1", timeout_s=10, poll_s=5)
    assert ready["status"] == "ready"
    assert [r.url.params["wait"] for r in seen] == ["0", "5", "5", "5"]
    assert [r.headers.get("If-None-Match") for r in seen] == [None, '"1"', '"1"', '"1"']


async def test_wait_raises_on_failure_and_on_a_4xx() -> None:
    failed = _project("repo_failed", last_error={"code": "github_forbidden", "message": "no"})
    async with _client(lambda _: httpx.Response(200, json=failed)) as client:
        with pytest.raises(ProjectFailed) as caught:
            await client.wait_until_ready("p1")
    assert (caught.value.code, caught.value.message) == ("github_forbidden", "no")

    gone = {"error": "not_found", "detail": "no such project"}
    async with _client(lambda _: httpx.Response(404, json=gone)) as client:
        with pytest.raises(ApiError):
            await client.wait_until_ready("p1")


async def test_wait_times_out_with_the_last_known_state() -> None:
    answer = _project("provisioning")
    async with _client(lambda _: httpx.Response(200, json=answer, headers={"ETag": '"1"'})) as c:
        with pytest.raises(WaitTimedOut) as caught:
            await c.wait_until_ready("p1", timeout_s=0.05, poll_s=0.01)
    assert caught.value.project["status"] == "provisioning"

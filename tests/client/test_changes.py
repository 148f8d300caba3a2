"""The SDK's change calls (merge-patch, secrets, archive, reconcile) against a MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from provisioner_client import UNSET, ApiError, ProjectsClient, SyncProjectsClient

Handler = Callable[[httpx.Request], httpx.Response]
PROJECT = {"id": "p1", "name": "Bot", "status": "ready", "sync": {"generation": 2}}
STALE = {"error": "precondition_failed", "detail": "the project changed since that ETag"}


def _client(handler: Handler) -> ProjectsClient:
    return ProjectsClient("http://api/", "prv_t", transport=httpx.MockTransport(handler))


def _answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``responses`` in order, and the requests it saw."""
    seen: list[httpx.Request] = []
    left: Iterator[httpx.Response] = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(left)

    return handler, seen


def _read(etag: str) -> httpx.Response:
    return httpx.Response(200, json=PROJECT, headers={"ETag": etag})


def _accepted() -> httpx.Response:
    return httpx.Response(202, json=PROJECT, headers={"ETag": 'W/"p1.9"'})


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_update_sends_a_merge_patch_with_the_given_if_match() -> None:
    handler, seen = _answers(_accepted())
    async with _client(handler) as client:
        project = await client.update(
            "p1", repository={"topics": ["a"], "variables": {"OLD": None}}, if_match='W/"p1.3"'
        )
    assert project == PROJECT
    [patch] = seen
    assert (patch.method, patch.url.path) == ("PATCH", "/api/projects/p1")
    assert patch.headers["Content-Type"] == "application/merge-patch+json"
    assert patch.headers["If-Match"] == 'W/"p1.3"'
    assert patch.headers["Authorization"] == "Bearer prv_t"
    assert _body(patch) == {"repository": {"topics": ["a"], "variables": {"OLD": None}}}


async def test_update_none_sends_null_and_keys_not_given_stay_out() -> None:
    handler, seen = _answers(_accepted(), _accepted())
    async with _client(handler) as client:
        await client.update("p1", description=None, if_match='"e"')
        await client.update("p1", config={"k": 1}, repository=UNSET, if_match='"e"')
    assert [_body(r) for r in seen] == [{"description": None}, {"config": {"k": 1}}]


async def test_update_without_if_match_reads_the_etag_first() -> None:
    handler, seen = _answers(_read('W/"p1.4"'), _accepted())
    async with _client(handler) as client:
        assert await client.update("p1", description="new") == PROJECT
    assert [(r.method, r.url.path) for r in seen] == [
        ("GET", "/api/projects/p1"),
        ("PATCH", "/api/projects/p1"),
    ]
    assert "If-Match" not in seen[0].headers
    assert seen[1].headers["If-Match"] == 'W/"p1.4"'


async def test_a_412_reads_again_once_and_resends_the_same_patch() -> None:
    handler, seen = _answers(
        _read('W/"p1.4"'), httpx.Response(412, json=STALE), _read('W/"p1.5"'), _accepted()
    )
    async with _client(handler) as client:
        assert await client.update("p1", description="new") == PROJECT
    assert [r.method for r in seen] == ["GET", "PATCH", "GET", "PATCH"]
    assert [r.headers["If-Match"] for r in seen if r.method == "PATCH"] == [
        'W/"p1.4"',
        'W/"p1.5"',
    ]
    assert _body(seen[1]) == _body(seen[3]) == {"description": "new"}


async def test_a_second_412_gives_up() -> None:
    stale = httpx.Response(412, json=STALE)
    handler, seen = _answers(_read('"1"'), stale, _read('"2"'), stale)
    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.update("p1", description="new")
    assert len(seen) == 4
    assert (caught.value.status, caught.value.error) == (412, "precondition_failed")


async def test_a_stale_given_if_match_is_not_retried() -> None:
    handler, seen = _answers(httpx.Response(412, json=STALE))
    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.update("p1", description="new", if_match='"old"')
    assert [r.method for r in seen] == ["PATCH"]
    assert caught.value.status == 412


async def test_update_errors_keep_the_api_shape() -> None:
    invalid = {"error": "validation_error", "detail": "bad topic", "field": "repository.topics[0]"}
    handler, _ = _answers(_read('"1"'), httpx.Response(422, json=invalid))
    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.update("p1", repository={"topics": ["A"]})
    error = caught.value
    assert (error.status, error.error, error.field) == (422, "validation_error", invalid["field"])
    assert str(error) == "422 validation_error (repository.topics[0]): bad topic"


async def test_a_failed_read_of_the_etag_is_raised() -> None:
    gone = {"error": "not_found", "detail": "no such project"}
    handler, seen = _answers(httpx.Response(404, json=gone))
    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.update("p1", description="x")
    assert [r.method for r in seen] == ["GET"]
    assert caught.value.error == "not_found"


@pytest.mark.parametrize(
    ("call", "method", "path", "params", "body"),
    [
        (lambda c: c.set_secret("p1", "API_KEY", "s3cret"), "PUT",
         "/api/projects/p1/secrets/API_KEY", {}, {"value": "s3cret"}),
        (lambda c: c.set_secret("p1", "A/B", "v"), "PUT",
         "/api/projects/p1/secrets/A%2FB", {}, {"value": "v"}),
        (lambda c: c.remove_secret("p1", "API_KEY"), "DELETE",
         "/api/projects/p1/secrets/API_KEY", {}, None),
        (lambda c: c.archive("p1"), "DELETE", "/api/projects/p1", {}, None),
        (lambda c: c.archive("p1", purge=True), "DELETE", "/api/projects/p1",
         {"purge": "true"}, None),
        (lambda c: c.reconcile("p1"), "POST", "/api/projects/p1/reconcile", {}, None),
    ],
)  # fmt: skip
async def test_each_call_sends_its_method_path_and_body(
    call: Callable[[ProjectsClient], Any],
    method: str,
    path: str,
    params: dict[str, str],
    body: dict[str, str] | None,
) -> None:
    handler, seen = _answers(_accepted())
    async with _client(handler) as client:
        assert await call(client) == PROJECT
    [request] = seen
    assert (request.method, request.url.raw_path.decode().partition("?")[0]) == (method, path)
    assert dict(request.url.params) == params
    assert (_body(request) if request.content else None) == body


async def test_removing_an_unknown_secret_is_the_api_error() -> None:
    missing = {"error": "not_found", "detail": "no secret API_KEY"}
    handler, _ = _answers(httpx.Response(404, json=missing))
    async with _client(handler) as client:
        with pytest.raises(ApiError) as caught:
            await client.remove_secret("p1", "API_KEY")
    assert str(caught.value) == "404 not_found: no secret API_KEY"


def test_the_sync_client_has_every_change_call() -> None:
    handler, seen = _answers(
        _read('"1"'), _accepted(), _accepted(), _accepted(), _accepted(), _accepted()
    )
    with SyncProjectsClient("http://api", "t", transport=httpx.MockTransport(handler)) as client:
        assert client.update("p1", description=None) == PROJECT
        assert client.set_secret("p1", "K", "v") == PROJECT
        assert client.remove_secret("p1", "K") == PROJECT
        assert client.archive("p1", purge=True) == PROJECT
        assert client.reconcile("p1") == PROJECT
    assert [r.method for r in seen] == ["GET", "PATCH", "PUT", "DELETE", "DELETE", "POST"]
    assert _body(seen[1]) == {"description": None}

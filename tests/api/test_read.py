"""GET a project (ETag, 304), list projects (keyset pages, filters) and a project's events."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.helpers import PROJECT_KEYS, bearer, body, make_failed, make_ready
from tests.api_fixtures import ApiTokens
from tests.db.helpers import FakeRepo


async def _create(client: httpx.AsyncClient, token: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/projects/", json=body(**overrides), headers=bearer(token))
    assert response.status_code == 202, response.text
    project: dict[str, Any] = response.json()
    return project


async def test_get_shows_the_project_with_an_etag(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    created = await _create(api_client, api_tokens.alice, secrets={"API_KEY": "v"})

    response = await api_client.get(
        f"/api/projects/{created['id']}", headers=bearer(api_tokens.alice)
    )

    assert response.status_code == 200
    assert response.json() == created
    assert set(response.json()) == PROJECT_KEYS
    assert response.json()["secrets"] == [{"name": "API_KEY", "state": "pending"}]
    assert response.headers["ETag"] == f'W/"{created["id"]}.1"'


async def test_if_none_match_answers_304_until_the_project_changes(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(api_client, api_tokens.alice)
    url = f"/api/projects/{created['id']}"
    etag = (await api_client.get(url, headers=bearer(api_tokens.alice))).headers["ETag"]

    for header in (etag, etag.removeprefix("W/"), f'"other", {etag}', "*"):
        cached = await api_client.get(
            url, headers=bearer(api_tokens.alice) | {"If-None-Match": header}
        )
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["ETag"] == etag

    await make_failed(db_sessionmaker, uuid.UUID(created["id"]))
    changed = await api_client.get(url, headers=bearer(api_tokens.alice) | {"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json()["status"] == "repo_failed"
    assert changed.json()["last_error"] == {
        "code": "github_forbidden",
        "message": "Resource not accessible",
    }


async def test_ready_project_has_repo_info_named_as_github_answered(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(api_client, api_tokens.alice, secrets={"API_KEY": "v"})
    repo = FakeRepo(
        full_name="acme/Demo-Bot",
        html_url="https://github.com/acme/Demo-Bot",
        clone_url="https://github.com/acme/Demo-Bot.git",
    )
    await make_ready(db_sessionmaker, uuid.UUID(created["id"]), repo)

    project = (
        await api_client.get(f"/api/projects/{created['id']}", headers=bearer(api_tokens.service))
    ).json()

    assert project["status"] == "ready"
    assert project["repo_info"] == {
        "owner": "acme",
        "name": "Demo-Bot",
        "full_name": "acme/Demo-Bot",
        "html_url": "https://github.com/acme/Demo-Bot",
        "clone_url": "https://github.com/acme/Demo-Bot.git",
        "default_branch": "main",
    }
    assert project["provisioned_at"] is not None
    assert project["attempts"] == 1
    assert project["secrets"] == [{"name": "API_KEY", "state": "set"}]


async def test_unknown_or_malformed_id(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    missing = await api_client.get(f"/api/projects/{uuid.uuid4()}", headers=bearer(api_tokens.ops))
    malformed = await api_client.get("/api/projects/nope", headers=bearer(api_tokens.ops))

    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "project_id"


async def test_listing_walks_keyset_pages_newest_first(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    created = [(await _create(api_client, api_tokens.alice))["id"] for _ in range(5)]
    await _create(api_client, api_tokens.bob)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await api_client.get(
            "/api/projects", params=params, headers=bearer(api_tokens.alice)
        )
        assert response.status_code == 200
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(created))
    assert pages == 3


async def test_listing_scope_by_role_and_status_filter(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    alices = await _create(api_client, api_tokens.alice)
    bobs = await _create(api_client, api_tokens.bob)
    await make_failed(db_sessionmaker, uuid.UUID(bobs["id"]))

    async def ids(token: str, **params: Any) -> list[str]:
        response = await api_client.get("/api/projects/", params=params, headers=bearer(token))
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert await ids(api_tokens.alice) == [alices["id"]]
    assert await ids(api_tokens.bob) == [bobs["id"]]
    assert await ids(api_tokens.ops) == [bobs["id"], alices["id"]]
    assert await ids(api_tokens.service) == [bobs["id"], alices["id"]]
    assert await ids(api_tokens.ops, status="repo_failed") == [bobs["id"]]
    assert await ids(api_tokens.alice, status="repo_failed") == []
    assert await ids(api_tokens.service, status="pending_repo") == [alices["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "eyJhIjoxfQ"}, "cursor"),  # base64 of {"a":1}
        ({"cursor": "WyJlIiwxXQ"}, "cursor"),  # an events cursor
    ],
)
async def test_bad_listing_parameters_name_the_field(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens, params: dict[str, Any], field: str
) -> None:
    response = await api_client.get("/api/projects", params=params, headers=bearer(api_tokens.ops))

    assert response.status_code == 400
    assert response.json()["error"] == (
        "invalid_cursor" if field == "cursor" else "invalid_parameter"
    )
    assert response.json()["field"] == field


async def test_events_tell_the_history_in_pages(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(api_client, api_tokens.alice, secrets={"API_KEY": "hidden-value"})
    await make_failed(db_sessionmaker, uuid.UUID(created["id"]))
    url = f"/api/projects/{created['id']}/events"

    first = await api_client.get(url, params={"limit": 2}, headers=bearer(api_tokens.alice))
    rest = await api_client.get(
        url,
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=bearer(api_tokens.alice),
    )

    assert first.status_code == 200
    items = first.json()["items"] + rest.json()["items"]
    assert [item["kind"] for item in items] == ["accepted", "attempt_started", "failed"]
    assert set(items[0]) == {"id", "at", "kind", "generation", "attempt", "data"}
    assert items[0]["data"] == {"repo_name": created["repo_name"], "secrets": ["API_KEY"]}
    assert (items[1]["generation"], items[1]["attempt"]) == (1, 1)
    assert rest.json()["next_cursor"] is None
    assert "hidden-value" not in first.text + rest.text

    bad = await api_client.get(url, params={"cursor": "x"}, headers=bearer(api_tokens.alice))
    assert (bad.status_code, bad.json()["field"]) == (400, "cursor")

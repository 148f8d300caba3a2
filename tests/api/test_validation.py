"""Bad create requests: each names the field at fault and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.helpers import bearer, queued_job_ids, row_counts
from tests.api_fixtures import ApiTokens

_MANY = {f"S{i}": "v" for i in range(101)}

CASES: list[tuple[str, Any, int, str, str | None]] = [
    # (case id, JSON body, status, error, field)
    ("empty name", {"name": ""}, 422, "validation_error", "name"),
    ("blank name", {"name": " \t\n "}, 422, "validation_error", "name"),
    ("missing name", {"description": "x"}, 422, "validation_error", "name"),
    ("name not a string", {"name": 42}, 422, "validation_error", "name"),
    ("emoji-only name", {"name": "🚀🔥✨"}, 422, "invalid_name", "name"),
    ("name over 100 after normalising", {"name": "щ" * 30}, 422, "invalid_name", "name"),
    ("name far too long", {"name": "a" * 201}, 422, "validation_error", "name"),
    ("unknown field", {"name": "ok", "colour": "red"}, 422, "validation_error", "colour"),
    ("description too long", {"name": "ok", "description": "d" * 2001}, 422,
     "validation_error", "description"),
    ("config a string", {"name": "ok", "config": "x"}, 422, "validation_error", "config"),
    ("config a list", {"name": "ok", "config": [1]}, 422, "validation_error", "config"),
    ("config too big", {"name": "ok", "config": {"blob": "x" * 70_000}}, 422,
     "validation_error", "config"),
    ("id not a UUID", {"name": "ok", "id": "not-a-uuid"}, 422, "validation_error", "id"),
    ("secret named GITHUB_", {"name": "ok", "secrets": {"GITHUB_TOKEN": "v"}}, 422,
     "invalid_secret", "secrets.GITHUB_TOKEN"),
    ("secret name with dash", {"name": "ok", "secrets": {"BAD-NAME": "v"}}, 422,
     "invalid_secret", "secrets.BAD-NAME"),
    ("secret name starting with digit", {"name": "ok", "secrets": {"1KEY": "v"}}, 422,
     "invalid_secret", "secrets.1KEY"),
    ("too many secrets", {"name": "ok", "secrets": _MANY}, 422, "invalid_secret", "secrets"),
    ("secret over 48 KB", {"name": "ok", "secrets": {"BIG": "x" * (48 * 1024 + 1)}}, 422,
     "invalid_secret", "secrets.BIG"),
    ("secret value not a string", {"name": "ok", "secrets": {"KEY": 1}}, 422,
     "validation_error", "secrets.KEY"),
    ("secrets a list", {"name": "ok", "secrets": ["KEY"]}, 422, "validation_error", "secrets"),
    ("config.secrets not an object", {"name": "ok", "config": {"secrets": "KEY=v"}}, 422,
     "validation_error", "config.secrets"),
    ("config.secrets value not a string", {"name": "ok", "config": {"secrets": {"K": 1}}},
     422, "validation_error", "config.secrets.K"),
    ("config.secrets named GITHUB_", {"name": "ok", "config": {"secrets": {"GITHUB_X": "v"}}},
     422, "invalid_secret", "secrets.GITHUB_X"),
    ("same secret twice", {"name": "ok", "secrets": {"KEY": "a"},
                           "config": {"secrets": {"KEY": "b"}}}, 422,
     "duplicate_secret", "secrets.KEY"),
    ("same secret in other case", {"name": "ok", "secrets": {"KEY": "a"},
                                   "config": {"secrets": {"key": "b"}}}, 422,
     "invalid_secret", "secrets.key"),
    ("body a list", [{"name": "ok"}], 422, "validation_error", None),
]  # fmt: skip


@pytest.fixture
async def assert_nothing_stored(
    db_sessionmaker: async_sessionmaker[AsyncSession], api_queue: ArqRedis
) -> Any:
    """After the test: no project, no secret, no job."""
    yield
    assert await row_counts(db_sessionmaker) == (0, 0)
    assert await queued_job_ids(api_queue) == []


@pytest.mark.parametrize(
    ("payload", "status", "error", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
@pytest.mark.usefixtures("assert_nothing_stored")
async def test_bad_body_is_refused_naming_the_field(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    payload: Any,
    status: int,
    error: str,
    field: str | None,
) -> None:
    response = await api_client.post(
        "/api/projects/", json=payload, headers=bearer(api_tokens.alice)
    )

    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["error"] == error
    assert answer.get("field") == field
    assert isinstance(answer["detail"], str)
    assert answer["detail"]
    assert set(answer) <= {"error", "detail", "field"}
    assert "x" * 100 not in response.text  # values are never echoed


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        pytest.param(b'{"name": "ok",', {"Content-Type": "application/json"}, 400,
                     "malformed_json", id="truncated JSON"),
        pytest.param(b"name=ok", {"Content-Type": "application/json"}, 400,
                     "malformed_json", id="form data sent as JSON"),
        pytest.param(json.dumps({"name": "ok"}).encode(), {"Content-Type": "text/plain"}, 415,
                     "unsupported_media_type", id="text/plain"),
        pytest.param(b"name=ok", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
                     "unsupported_media_type", id="form"),
        pytest.param(json.dumps({"name": "ok"}).encode(), {}, 415,
                     "unsupported_media_type", id="no content type"),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("assert_nothing_stored")
async def test_unparseable_body_is_refused(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    content: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = await api_client.post(
        "/api/projects/", content=content, headers=bearer(api_tokens.alice) | headers
    )

    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert "field" not in response.json()


@pytest.mark.usefixtures("assert_nothing_stored")
async def test_json_with_charset_and_vendor_type_is_accepted_as_json(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    for content_type in ("application/json; charset=utf-8", "application/problem+json"):
        response = await api_client.post(
            "/api/projects/",
            content=b'{"name": ""}',
            headers=bearer(api_tokens.alice) | {"Content-Type": content_type},
        )
        assert response.status_code == 422
        assert response.json()["field"] == "name"


@pytest.mark.usefixtures("assert_nothing_stored")
async def test_overlong_idempotency_key_is_refused(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    response = await api_client.post(
        "/api/projects/",
        json={"name": "ok"},
        headers=bearer(api_tokens.alice) | {"Idempotency-Key": "k" * 201},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"

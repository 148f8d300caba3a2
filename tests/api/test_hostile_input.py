"""Hostile bodies (NUL, lone surrogates, deep nesting, odd numbers, huge sizes): each is
refused in the one error shape, naming the field, and stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.helpers import bearer, queued_job_ids, row_counts
from tests.api_fixtures import ApiTokens

_JSON = {"Content-Type": "application/json"}


def _nested(depth: int) -> str:
    """``{"a": {"a": ... 1 ...}}`` with ``depth`` objects."""
    return '{"a":' * depth + "1" + "}" * depth


RAW_CASES: list[tuple[str, bytes, str | None]] = [
    # (case id, raw JSON body, field) — all answer 422 validation_error
    ("NUL in name", b'{"name": "ok\\u0000bot"}', "name"),
    ("raw NUL byte in name", b'{"name": "ok\x00bot"}', None),  # not JSON at all: 400
    ("NUL in description", b'{"name": "ok", "description": "a\\u0000"}', "description"),
    ("NUL in a config value", b'{"name": "ok", "config": {"a": {"b": "\\u0000"}}}', "config.a.b"),
    ("NUL in a config key", b'{"name": "ok", "config": {"k\\u0000": 1}}', "config.k\\u0000"),
    ("NUL in a config list", b'{"name": "ok", "config": {"l": ["x", "\\u0000"]}}', "config.l.1"),
    ("NUL in a secret value", b'{"name": "ok", "secrets": {"API_KEY": "sk\\u0000"}}',
     "secrets.API_KEY"),
    ("NUL in an Idempotency id", b'{"name": "ok", "id": "\\u0000"}', "id"),
    ("lone surrogate in a secret value", b'{"name": "ok", "secrets": {"API_KEY": "\\ud800"}}',
     "secrets.API_KEY"),
    ("lone low surrogate in name", b'{"name": "bot \\udc00"}', "name"),
    ("lone surrogate in a secret name", b'{"name": "ok", "secrets": {"\\ud800": "v"}}',
     "secrets.\\ud800"),
    ("lone surrogate in config.secrets", b'{"name": "ok", "config": {"secrets": {"K": "\\udfff"}}}',
     "config.secrets.K"),
    ("config 33 levels deep", ('{"name": "ok", "config": ' + _nested(32) + "}").encode(),
     "config" + ".a" * 31),
    ("config 300 levels deep", ('{"name": "ok", "config": ' + _nested(300) + "}").encode(),
     "config" + ".a" * 31),
    ("config 100000 levels deep", ('{"name": "ok", "config": ' + _nested(100_000) + "}").encode(),
     "config" + ".a" * 31),
    ("a list 100000 levels deep", b"[" * 100_000 + b"]" * 100_000, "0" + ".0" * 31),
    ("NaN in config", b'{"name": "ok", "config": {"n": NaN}}', "config.n"),
    ("Infinity in config", b'{"name": "ok", "config": {"n": -Infinity}}', "config.n"),
    ("1e400 in config", b'{"name": "ok", "config": {"n": 1e400}}', "config.n"),
    ("a 5000-digit integer in config", b'{"name": "ok", "config": {"n": 1' + b"0" * 5000 + b"}}",
     "config.n"),
]  # fmt: skip


@pytest.fixture
async def assert_nothing_stored(
    db_sessionmaker: async_sessionmaker[AsyncSession], api_queue: ArqRedis
) -> AsyncIterator[None]:
    """After the test: no project, no secret, no job."""
    yield
    assert await row_counts(db_sessionmaker) == (0, 0)
    assert await queued_job_ids(api_queue) == []


def _assert_error_shape(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    answer = response.json()
    assert isinstance(answer, dict)
    assert answer["error"] == error
    assert isinstance(answer["detail"], str)
    assert answer["detail"]
    assert set(answer) <= {"error", "detail", "field"}
    return answer


@pytest.mark.parametrize(("content", "field"), [pytest.param(*c[1:], id=c[0]) for c in RAW_CASES])
@pytest.mark.usefixtures("assert_nothing_stored")
async def test_hostile_body_is_refused_naming_the_field(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens, content: bytes, field: str | None
) -> None:
    response = await api_client.post(
        "/api/projects/", content=content, headers=bearer(api_tokens.alice) | _JSON
    )

    if field is None:
        answer = _assert_error_shape(response, 400, "malformed_json")
    else:
        answer = _assert_error_shape(response, 422, "validation_error")
    assert answer.get("field") == field
    assert "sk" not in answer["detail"]


_BIG = json.dumps({"name": "ok", "config": {"blob": "x" * (2 * 1024 * 1024)}}).encode()


@pytest.mark.usefixtures("assert_nothing_stored")
async def test_body_over_the_limit_is_refused_before_authentication(
    api_client: httpx.AsyncClient,
) -> None:
    response = await api_client.post("/api/projects/", content=_BIG, headers=_JSON)

    answer = _assert_error_shape(response, 413, "body_too_large")
    assert "field" not in answer


@pytest.mark.usefixtures("assert_nothing_stored")
async def test_streamed_body_over_the_limit_is_refused_while_reading(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for start in range(0, len(_BIG), 64 * 1024):
            sent += 1
            yield _BIG[start : start + 64 * 1024]

    response = await api_client.post(
        "/api/projects/", content=chunks(), headers=bearer(api_tokens.alice) | _JSON
    )

    _assert_error_shape(response, 413, "body_too_large")
    assert "content-length" not in response.request.headers
    assert sent <= 1024 * 1024 // (64 * 1024) + 2  # stopped reading at the limit


@pytest.mark.usefixtures("assert_nothing_stored")
async def test_lying_content_length_over_the_limit_is_refused_unread(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    headers = bearer(api_tokens.alice) | _JSON | {"Content-Length": str(50 * 1024 * 1024)}

    response = await api_client.post("/api/projects/", content=b'{"name": "ok"}', headers=headers)

    _assert_error_shape(response, 413, "body_too_large")


async def test_body_just_under_the_limit_is_read(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    content = json.dumps({"name": "ok", "description": "d" * (1024 * 1024 - 100)}).encode()

    response = await api_client.post(
        "/api/projects/", content=content, headers=bearer(api_tokens.alice) | _JSON
    )

    _assert_error_shape(response, 422, "validation_error")  # too long a description, not 413
    assert response.json()["field"] == "description"


@pytest.mark.parametrize(
    ("path", "params", "error", "field"),
    [
        ("/api/projects", {"limit": 10**30}, "invalid_parameter", "limit"),
        ("/api/projects", {"limit": "9" * 5000}, "invalid_parameter", "limit"),
        ("/api/projects", {"limit": -1}, "invalid_parameter", "limit"),
        ("/api/projects", {"cursor": "WyJwIiwiMjAyNC0wMS0wMVQwMDowMDowMCIsIngiXQ"},
         "invalid_cursor", "cursor"),  # ["p","2024-01-01T00:00:00","x"]
        ("/api/projects", {"cursor": "WyJwIiwiOTk5OTk5LTAxLTAxIiwiMCJd"},
         "invalid_cursor", "cursor"),  # a year out of range
        ("/api/projects", {"cursor": "\x00"}, "invalid_cursor", "cursor"),
        ("/api/projects", {"cursor": "W1s" * 100}, "invalid_cursor", "cursor"),
        ("/api/projects/{id}/events", {"cursor": "WyJlIiwxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMF0"},
         "invalid_cursor", "cursor"),  # ["e",10000000000000000000000]: beyond bigint
        ("/api/projects/00000000-0000-0000-0000-000000000000/events", {"limit": 1000},
         "invalid_parameter", "limit"),
        ("/api/projects/00000000-0000-0000-0000-000000000000", {"wait": 61},
         "invalid_parameter", "wait"),
        ("/api/projects/00000000-0000-0000-0000-000000000000", {"wait": "1e400"},
         "invalid_parameter", "wait"),
        ("/api/projects/00000000-0000-0000-0000-000000000000", {"wait": "nan"},
         "invalid_parameter", "wait"),
        ("/api/projects/00000000-0000-0000-0000-000000000000", {"wait": -1},
         "invalid_parameter", "wait"),
        ("/api/projects/not-a-uuid", {}, "invalid_parameter", "project_id"),
        ("/api/projects/not-a-uuid/events", {}, "invalid_parameter", "project_id"),
    ],
)  # fmt: skip
async def test_bad_query_and_path_parameters_answer_400(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    path: str,
    params: dict[str, Any],
    error: str,
    field: str,
) -> None:
    if "{id}" in path:
        created = await api_client.post(
            "/api/projects/", json={"name": "Cursor bot"}, headers=bearer(api_tokens.alice)
        )
        path = path.format(id=created.json()["id"])
    response = await api_client.get(path, params=params, headers=bearer(api_tokens.ops))

    answer = _assert_error_shape(response, 400, error)
    assert answer.get("field") == field

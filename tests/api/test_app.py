"""The app's plumbing: the unit of work, the one error shape, OpenAPI, the lifespan."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from api.deps import JobsDep, Resources, SessionDep
from cli.resources import api_resources
from shared.auth import repository as token_repository
from shared.auth.models import ApiToken
from shared.crypto import SecretsCipher, generate_secrets_key
from shared.errors import ConfigError, RequestRejected
from shared.settings import (
    DatabaseSettings,
    GitHubSettings,
    RedisSettings,
    SecretsSettings,
    Settings,
)
from tests.api.helpers import queued_job_ids
from tests.redis_urls import redis_url


@pytest.fixture
async def plumbing_client(
    api_app: FastAPI,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with extra routes that write a row, hold a job, then succeed or fail."""

    async def write(session: AsyncSession, jobs: Any) -> None:
        await token_repository.insert_token(session, uuid.uuid4().hex, "user", "probe")
        jobs.add(uuid.UUID(int=1), 1, "probe")

    @api_app.post("/_test/ok")
    async def ok(session: SessionDep, jobs: JobsDep) -> dict[str, str]:
        await write(session, jobs)
        return {"status": "done"}

    @api_app.post("/_test/refused")
    async def refused(session: SessionDep, jobs: JobsDep) -> dict[str, str]:
        await write(session, jobs)
        raise RequestRejected(409, "refused", "changed my mind", field="x")

    @api_app.post("/_test/crash")
    async def crash(session: SessionDep, jobs: JobsDep) -> dict[str, str]:
        await write(session, jobs)
        raise RuntimeError("secret internals: prv_abcdefghijklmnop")

    transport = httpx.ASGITransport(app=api_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def _tokens(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiToken)) or 0)


async def test_success_commits_then_enqueues(
    plumbing_client: httpx.AsyncClient,
    api_queue: ArqRedis,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    response = await plumbing_client.post("/_test/ok")

    assert response.status_code == 200
    assert await _tokens(db_sessionmaker) == 1
    assert await queued_job_ids(api_queue) == [f"provision:{uuid.UUID(int=1)}:1"]


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/_test/refused", 409, {"error": "refused", "detail": "changed my mind", "field": "x"}),
        (
            "/_test/crash",
            500,
            {"error": "internal_error", "detail": "something went wrong on our side"},
        ),
    ],
)
async def test_an_error_rolls_back_and_drops_the_jobs(
    plumbing_client: httpx.AsyncClient,
    api_queue: ArqRedis,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    path: str,
    status: int,
    expected: dict[str, str],
) -> None:
    response = await plumbing_client.post(path)

    assert response.status_code == status
    assert response.json() == expected
    assert await _tokens(db_sessionmaker) == 0
    assert await queued_job_ids(api_queue) == []


async def test_unknown_route_and_wrong_method_use_the_error_shape(
    api_client: httpx.AsyncClient,
) -> None:
    missing = await api_client.get("/nowhere")
    wrong_method = await api_client.delete("/api/projects")

    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Not Found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_openapi_lists_every_error_status_with_the_error_schema() -> None:
    schema = create_app(_unused_resources).openapi()
    expected = {
        ("post", "/api/projects/"): {"202", "400", "401", "403", "409", "413", "415", "422",
                                     "429", "500"},
        ("get", "/api/projects"): {"200", "400", "401", "403", "422", "500"},
        ("get", "/api/projects/{project_id}"): {"200", "304", "400", "401", "403", "404", "422",
                                                 "500", "503"},
        ("get", "/api/projects/{project_id}/events"): {"200", "400", "401", "403", "404", "422",
                                                        "500"},
        ("post", "/api/projects/{project_id}/retry"): {"202", "400", "401", "403", "404", "409",
                                                        "422", "500"},
        ("post", "/api/projects/{project_id}/token"): {"201", "400", "401", "403", "404", "409",
                                                        "422", "429", "500", "502", "503"},
        ("patch", "/api/projects/{project_id}"): {"202", "400", "401", "403", "404", "409",
                                                   "412", "413", "415", "422", "428", "500"},
        ("delete", "/api/projects/{project_id}"): {"202", "400", "401", "403", "404", "422",
                                                    "500"},
        ("put", "/api/projects/{project_id}/secrets/{name}"): {"202", "400", "401", "403", "404",
                                                                "409", "413", "415", "422", "500"},
        ("delete", "/api/projects/{project_id}/secrets/{name}"): {"202", "400", "401", "403",
                                                                   "404", "409", "422", "500"},
        ("post", "/api/projects/{project_id}/reconcile"): {"202", "400", "401", "403", "404",
                                                            "409", "422", "500"},
        ("post", "/api/github/webhooks"): {"202", "400", "401", "413", "422", "503"},
        ("get", "/api/budget"): {"200", "401", "403", "500", "503"},
        ("get", "/healthz"): {"200", "500"},
        ("get", "/readyz"): {"200", "500", "503"},
    }  # fmt: skip
    found = {
        (method, path): set(operation["responses"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert found == expected
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (path, status)
    create = schema["paths"]["/api/projects/"]["post"]
    assert create["operationId"] == "create_project"
    assert create["security"] == [{"HTTPBearer": []}]


async def test_lifespan_builds_and_closes_resources_from_the_settings(database_url: str) -> None:
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        redis=RedisSettings(url=redis_url(0), queue_name=f"provisioner-test:{uuid.uuid4().hex}"),
        secrets=SecretsSettings(key=SecretStr(generate_secrets_key())),
        github=GitHubSettings(app_id=None),
    )
    app = create_app(partial(api_resources, settings))

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
        assert isinstance(app.state.resources.cipher, SecretsCipher)
        assert app.state.resources.changes.listening
    assert not hasattr(app.state, "resources")


async def test_lifespan_refuses_to_start_without_a_secrets_key() -> None:
    app = create_app(partial(api_resources, Settings(secrets=SecretsSettings(key=None))))

    with pytest.raises(ConfigError, match="SECRETS_KEY"):
        async with app.router.lifespan_context(app):
            pass


def _unused_resources() -> AbstractAsyncContextManager[Resources]:
    raise AssertionError("the OpenAPI document needs no resources")

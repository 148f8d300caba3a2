"""POST /api/projects/: accepted, stored, enqueued after commit; secrets kept out of sight."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from shared.crypto import SecretsCipher
from shared.jobs import PROVISION_JOB, deserialize
from shared.projects.models import Project, ProjectSecret
from tests.api.helpers import (
    PROJECT_KEYS,
    bearer,
    body,
    queued_job_ids,
    row_counts,
    stored_job,
)
from tests.api_fixtures import ApiTokens

SECRET_VALUE = "s3cr3t-value-that-must-never-leak"


async def test_create_answers_202_with_location_and_pending_project(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    response = await api_client.post(
        "/api/projects/",
        json={"name": "Тестовый бот", "description": "demo", "config": {"language": "python"}},
        headers=bearer(api_tokens.alice),
    )

    assert response.status_code == 202
    project = response.json()
    assert set(project) == PROJECT_KEYS
    assert response.headers["Location"] == f"/api/projects/{project['id']}"
    assert response.headers["ETag"] == f'W/"{project["id"]}.1"'
    assert project["status"] == "pending_repo"
    assert project["name"] == "Тестовый бот"
    assert project["repo_name"] == "testovyi-bot"
    assert project["config"] == {"language": "python"}
    assert (project["repo_info"], project["last_error"], project["provisioned_at"]) == (
        None,
        None,
        None,
    )
    assert (project["attempts"], project["generation"], project["secrets"]) == (0, 1, [])
    assert "X-Request-ID" in response.headers


async def test_created_job_sits_in_redis_as_json_with_only_the_id(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens, api_queue: ArqRedis
) -> None:
    response = await api_client.post(
        "/api/projects/",
        json=body(secrets={"API_KEY": SECRET_VALUE}),
        headers=bearer(api_tokens.alice),
    )
    project_id = response.json()["id"]
    job_id = f"provision:{project_id}:1"

    assert await queued_job_ids(api_queue) == [job_id]
    raw = await api_queue.get(f"arq:job:{job_id}")
    assert SECRET_VALUE.encode() not in raw
    envelope = await stored_job(api_queue, job_id)
    assert envelope is not None
    assert (envelope["f"], envelope["a"], envelope["k"]) == (PROVISION_JOB, [project_id], {})
    job = Job(
        job_id, api_queue, _queue_name=api_queue.default_queue_name, _deserializer=deserialize
    )
    assert await job.status() == JobStatus.queued
    info = await job.info()
    assert info is not None
    assert (info.function, list(info.args), info.kwargs) == (PROVISION_JOB, [project_id], {})


async def test_secrets_from_config_are_moved_encrypted_and_never_shown(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    api_cipher: SecretsCipher,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with capture_logs() as logs:
        response = await api_client.post(
            "/api/projects/",
            json=body(
                config={"language": "python", "secrets": {"API_KEY": SECRET_VALUE}},
                secrets={"DB_PASSWORD": SECRET_VALUE + "-2"},
            ),
            headers=bearer(api_tokens.alice),
        )
    assert response.status_code == 202
    project_id = response.json()["id"]
    assert response.json()["config"] == {"language": "python"}
    assert response.json()["secrets"] == [
        {"name": "API_KEY", "state": "pending"},
        {"name": "DB_PASSWORD", "state": "pending"},
    ]

    async with db_sessionmaker() as session:
        project = await session.scalar(select(Project).where(Project.id == uuid.UUID(project_id)))
        rows = (await session.scalars(select(ProjectSecret).order_by(ProjectSecret.name))).all()
    assert project is not None
    assert project.config == {"language": "python"}
    assert SECRET_VALUE not in str(project.config)
    assert SECRET_VALUE not in (project.request_fingerprint or "")
    assert [row.name for row in rows] == ["API_KEY", "DB_PASSWORD"]
    assert [api_cipher.decrypt(row.ciphertext or b"") for row in rows] == [
        SECRET_VALUE,
        SECRET_VALUE + "-2",
    ]

    seen = [response.text]
    for path in (
        f"/api/projects/{project_id}",
        "/api/projects",
        f"/api/projects/{project_id}/events",
    ):
        for token in (api_tokens.alice, api_tokens.ops, api_tokens.service):
            answer = await api_client.get(path, headers=bearer(token))
            assert answer.status_code == 200
            seen.append(answer.text)
    assert all(SECRET_VALUE not in text for text in seen)
    assert logs, "the request logged nothing"
    assert SECRET_VALUE not in repr(logs)
    assert api_tokens.alice not in repr(logs)


async def test_redis_down_still_accepts_and_stores_the_project(
    api_client_redis_down: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    with capture_logs() as logs:
        response = await api_client_redis_down.post(
            "/api/projects/", json=body(), headers=bearer(api_tokens.alice)
        )

    assert response.status_code == 202
    assert response.json()["status"] == "pending_repo"
    assert await row_counts(db_sessionmaker) == (1, 0)
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [entry["job_id"] for entry in warnings] == [f"provision:{response.json()['id']}:1"]


async def test_same_id_and_body_returns_the_same_project_once(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    api_queue: ArqRedis,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = body(id=str(uuid.uuid4()), secrets={"API_KEY": SECRET_VALUE})

    first = await api_client.post("/api/projects/", json=payload, headers=bearer(api_tokens.alice))
    again = await api_client.post("/api/projects/", json=payload, headers=bearer(api_tokens.alice))

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"] == payload["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await row_counts(db_sessionmaker) == (1, 1)
    assert await queued_job_ids(api_queue) == [f"provision:{payload['id']}:1"]


async def test_secrets_in_config_or_top_level_are_the_same_body(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    payload = body(id=str(uuid.uuid4()))
    first = await api_client.post(
        "/api/projects/",
        json={**payload, "config": {"secrets": {"API_KEY": "v"}}},
        headers=bearer(api_tokens.alice),
    )
    again = await api_client.post(
        "/api/projects/",
        json={**payload, "config": {}, "secrets": {"API_KEY": "v"}},
        headers=bearer(api_tokens.alice),
    )

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_same_id_with_another_body_is_a_conflict(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = body(id=str(uuid.uuid4()), secrets={"API_KEY": "one"})
    await api_client.post("/api/projects/", json=payload, headers=bearer(api_tokens.alice))

    changed_secret = await api_client.post(
        "/api/projects/",
        json={**payload, "secrets": {"API_KEY": "two"}},
        headers=bearer(api_tokens.alice),
    )
    other_owner = await api_client.post(
        "/api/projects/", json=payload, headers=bearer(api_tokens.bob)
    )

    assert changed_secret.status_code == 409
    assert changed_secret.json()["error"] == "idempotency_conflict"
    assert changed_secret.json()["field"] == "id"
    assert "two" not in changed_secret.text
    assert other_owner.status_code == 409
    assert other_owner.json() == {
        "error": "id_in_use",
        "detail": "another project already has this id",
        "field": "id",
    }
    assert await row_counts(db_sessionmaker) == (1, 1)


async def test_idempotency_key_header_replays_and_conflicts(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = body()
    key = {"Idempotency-Key": f"req-{uuid.uuid4()}"}
    alice = bearer(api_tokens.alice)

    first = await api_client.post("/api/projects/", json=payload, headers=alice | key)
    again = await api_client.post("/api/projects/", json=payload, headers=alice | key)
    changed = await api_client.post(
        "/api/projects/", json={**payload, "description": "changed"}, headers=alice | key
    )
    bob_same_key = await api_client.post(
        "/api/projects/", json=body(), headers=bearer(api_tokens.bob) | key
    )

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert changed.status_code == 409
    assert changed.json()["error"] == "idempotency_conflict"
    assert "field" not in changed.json()
    assert bob_same_key.status_code == 202
    assert bob_same_key.json()["id"] != first.json()["id"]
    assert await row_counts(db_sessionmaker) == (2, 0)


async def test_concurrent_identical_creates_make_one_project(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    payload = body(id=str(uuid.uuid4()))

    answers = await asyncio.gather(
        *(
            api_client.post("/api/projects/", json=payload, headers=bearer(api_tokens.alice))
            for _ in range(4)
        )
    )

    assert [answer.status_code for answer in answers] == [202] * 4
    assert {answer.json()["id"] for answer in answers} == {payload["id"]}
    assert await row_counts(db_sessionmaker) == (1, 0)


async def test_a_name_whose_repository_name_is_taken_is_a_conflict(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await api_client.post(
        "/api/projects/", json={"name": "Demo Bot"}, headers=bearer(api_tokens.alice)
    )

    same_repo = await api_client.post(
        "/api/projects/", json={"name": "  demo   BOT!  "}, headers=bearer(api_tokens.bob)
    )

    assert same_repo.status_code == 409
    assert same_repo.json()["error"] == "repo_name_in_use"
    assert same_repo.json()["field"] == "name"
    assert await row_counts(db_sessionmaker) == (1, 0)


async def test_concurrent_creates_with_one_name_store_one(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    answers = await asyncio.gather(
        *(
            api_client.post(
                "/api/projects/", json={"name": "Race Bot"}, headers=bearer(api_tokens.alice)
            )
            for _ in range(4)
        )
    )

    assert sorted(answer.status_code for answer in answers) == [202, 409, 409, 409]
    assert {a.json()["field"] for a in answers if a.status_code == 409} == {"name"}
    assert await row_counts(db_sessionmaker) == (1, 0)


async def test_post_without_trailing_slash_is_the_same_endpoint(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    response = await api_client.post("/api/projects", json=body(), headers=bearer(api_tokens.alice))

    assert response.status_code == 202


async def test_the_created_view_is_what_a_read_shows(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    asked = {"topics": ["python"], "variables": {"PYTHON_VERSION": "3.12"}}
    response = await api_client.post(
        "/api/projects/",
        json={
            "name": "Settings view",
            "secrets": {"B_KEY": "b", "A_KEY": "a"},
            "repository": asked,
        },
        headers=bearer(api_tokens.alice),
    )
    assert response.status_code == 202
    created = response.json()
    assert [(s["setting"], s["state"]) for s in created["settings"]] == [
        ("topics", "pending"),
        ("variables.PYTHON_VERSION", "pending"),
    ]

    read = await api_client.get(f"/api/projects/{created['id']}", headers=bearer(api_tokens.alice))
    assert read.json() == created
    assert read.headers["ETag"] == response.headers["ETag"]

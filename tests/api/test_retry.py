"""POST /api/projects/{id}/retry: ops sends a failed or stuck project round again."""

from __future__ import annotations

import uuid

import httpx
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.helpers import bearer, body, make_failed, make_ready, queued_job_ids
from tests.api_fixtures import ApiTokens
from tests.db.helpers import FakeRepo


async def _create(client: httpx.AsyncClient, tokens: ApiTokens) -> uuid.UUID:
    response = await client.post("/api/projects/", json=body(), headers=bearer(tokens.alice))
    assert response.status_code == 202
    return uuid.UUID(response.json()["id"])


async def test_failed_project_goes_back_to_pending_in_the_next_generation(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    api_queue: ArqRedis,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _create(api_client, api_tokens)
    await make_failed(db_sessionmaker, project_id)

    response = await api_client.post(
        f"/api/projects/{project_id}/retry", headers=bearer(api_tokens.ops)
    )

    assert response.status_code == 202
    project = response.json()
    assert (project["status"], project["generation"], project["attempts"]) == (
        "pending_repo",
        2,
        0,
    )
    assert project["last_error"] is None
    assert response.headers["Location"] == f"/api/projects/{project_id}"
    assert f"provision:{project_id}:2" in await queued_job_ids(api_queue)
    assert await api_queue.exists(f"arq:job:provision:{project_id}:2")
    events = await api_client.get(
        f"/api/projects/{project_id}/events", headers=bearer(api_tokens.ops)
    )
    last = events.json()["items"][-1]
    assert (last["kind"], last["generation"]) == ("retry_requested", 2)
    assert last["data"]["actor"] == "oscar-ops"


async def test_stuck_project_is_enqueued_again_in_the_same_generation(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens, api_queue: ArqRedis
) -> None:
    project_id = await _create(api_client, api_tokens)
    job_id = f"provision:{project_id}:1"
    # Redis lost the job: the retry puts it back.
    await api_queue.delete(f"arq:job:{job_id}")
    await api_queue.zrem(api_queue.default_queue_name, job_id)

    response = await api_client.post(
        f"/api/projects/{project_id}/retry", headers=bearer(api_tokens.ops)
    )
    again = await api_client.post(
        f"/api/projects/{project_id}/retry", headers=bearer(api_tokens.ops)
    )

    assert (response.status_code, again.status_code) == (202, 202)
    assert (response.json()["status"], response.json()["generation"]) == ("pending_repo", 1)
    assert await queued_job_ids(api_queue) == [job_id]


async def test_ready_project_cannot_be_retried(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _create(api_client, api_tokens)
    await make_ready(db_sessionmaker, project_id, FakeRepo(full_name=f"acme/{project_id}"))

    response = await api_client.post(
        f"/api/projects/{project_id}/retry", headers=bearer(api_tokens.ops)
    )

    assert response.status_code == 409
    assert response.json()["error"] == "not_retryable"


async def test_retry_of_a_name_taken_meanwhile_is_a_conflict(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first = await api_client.post(
        "/api/projects/", json={"name": "Shared Name"}, headers=bearer(api_tokens.alice)
    )
    await make_failed(db_sessionmaker, uuid.UUID(first.json()["id"]))
    second = await api_client.post(
        "/api/projects/", json={"name": "Shared Name"}, headers=bearer(api_tokens.bob)
    )
    assert second.status_code == 202  # a failed project frees its name

    response = await api_client.post(
        f"/api/projects/{first.json()['id']}/retry", headers=bearer(api_tokens.ops)
    )

    assert response.status_code == 409
    assert (response.json()["error"], response.json()["field"]) == ("repo_name_in_use", "name")


async def test_only_ops_may_retry(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _create(api_client, api_tokens)
    await make_failed(db_sessionmaker, project_id)

    for token in (api_tokens.alice, api_tokens.service):
        response = await api_client.post(f"/api/projects/{project_id}/retry", headers=bearer(token))
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    missing = await api_client.post(
        f"/api/projects/{uuid.uuid4()}/retry", headers=bearer(api_tokens.ops)
    )
    assert missing.status_code == 404

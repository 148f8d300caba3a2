"""The console's pages and forms on real data: failures by code, retry, search, a project."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.heartbeats import this_worker, write_heartbeat
from shared.projects import lifecycle, repository
from tests.api.helpers import make_ready, queued_job_ids
from tests.api_fixtures import ApiTokens
from tests.db.helpers import FakeRepo, new_project
from tests.ops.conftest import csrf_of, sign_in


async def _failed(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    code: str,
    message: str,
    name: str | None = None,
    owner: str = "alice",
) -> uuid.UUID:
    async with sessionmaker() as session, session.begin():
        project = await new_project(
            session, name=name or f"Bot {uuid.uuid4().hex[:6]}", owner=owner
        )
        started = await lifecycle.start_attempt(session, project.id, 1, job_try=1)
        assert started is not None
        await lifecycle.mark_failed(session, started, code=code, message=message)
        return project.id


@pytest.fixture
async def signed_in(ops_client: httpx.AsyncClient, api_tokens: ApiTokens) -> httpx.AsyncClient:
    response = await sign_in(ops_client, api_tokens.ops)
    assert response.status_code == 303
    return ops_client


async def test_failures_are_grouped_by_code_with_counts(
    signed_in: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for _ in range(3):
        await _failed(db_sessionmaker, code="github_forbidden", message="Resource not accessible")
    await _failed(db_sessionmaker, code="repo_name_taken", message="name already exists")

    page = await signed_in.get("/ops/failed")
    narrowed = await signed_in.get("/ops/failed?code=repo_name_taken")

    assert page.status_code == 200
    rows = re.findall(r"<code>([a-z_]+)</code></a></td>\s*<td>(\d+)</td>", page.text)
    assert rows == [("github_forbidden", "3"), ("repo_name_taken", "1")]
    assert page.text.count("Resource not accessible") >= 3
    assert narrowed.text.count('id="retry-') == 1
    assert "name already exists" in narrowed.text


async def test_retry_button_retries_like_the_api_and_enqueues_after_commit(
    signed_in: httpx.AsyncClient,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
) -> None:
    project_id = await _failed(db_sessionmaker, code="github_forbidden", message="no")
    page = await signed_in.get(f"/ops/projects/{project_id}")
    assert f'id="retry-{project_id}"' in page.text

    response = await signed_in.post(
        f"/ops/projects/{project_id}/retry", data={"csrf": csrf_of(page.text)}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/ops/projects/{project_id}?notice=retried"
    assert f"provision:{project_id}:2" in await queued_job_ids(api_queue)
    async with db_sessionmaker() as session:
        project = await repository.get_project(session, project_id)
        events = await repository.list_events(session, project_id, limit=10)
    assert project is not None
    assert (project.status, project.generation) == ("pending_repo", 2)
    assert events[-1].kind == "retry_requested"
    assert events[-1].data["actor"] == "oscar-ops"
    again = await signed_in.get(response.headers["location"])
    assert "Retry requested" in again.text


async def test_retrying_a_ready_or_unknown_project_shows_why_not(
    signed_in: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessionmaker() as session, session.begin():
        project = await new_project(session)
    await make_ready(db_sessionmaker, project.id, FakeRepo())
    csrf = csrf_of((await signed_in.get("/ops")).text)

    ready = await signed_in.post(f"/ops/projects/{project.id}/retry", data={"csrf": csrf})
    unknown = await signed_in.post(f"/ops/projects/{uuid.uuid4()}/retry", data={"csrf": csrf})

    assert ready.status_code == 409
    assert "a project in status ready cannot be retried" in ready.text
    assert unknown.status_code == 404


async def test_retry_all_asks_first_then_retries_the_whole_group(
    signed_in: httpx.AsyncClient,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
) -> None:
    group = [
        await _failed(db_sessionmaker, code="github_forbidden", message="no") for _ in range(2)
    ]
    other = await _failed(db_sessionmaker, code="repo_name_taken", message="taken")

    confirm = await signed_in.get("/ops/failed/retry-all?code=github_forbidden")
    assert confirm.status_code == 200
    assert "Retry <strong>2</strong> projects" in confirm.text
    response = await signed_in.post(
        "/ops/failed/retry-all", data={"csrf": csrf_of(confirm.text), "code": "github_forbidden"}
    )

    assert response.status_code == 303
    assert "retried=2" in response.headers["location"]
    queued = await queued_job_ids(api_queue)
    assert {f"provision:{pid}:2" for pid in group} <= set(queued)
    assert not any(str(other) in job for job in queued)
    unknown = await signed_in.get("/ops/failed/retry-all?code=nothing_like_it")
    assert unknown.status_code == 404


async def test_search_by_name_owner_and_id_pages_with_a_cursor(
    signed_in: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessionmaker() as session, session.begin():
        ids = [
            (await new_project(session, name=f"Weather bot {i}", owner="carol")).id
            for i in range(55)
        ]
        other = await new_project(session, name="Unrelated 100%_match", owner="dave")

    first = await signed_in.get("/ops/projects", params={"q": "weather"})
    cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", first.text)
    assert cursor is not None
    second = await signed_in.get(
        "/ops/projects", params={"q": "weather", "cursor": cursor.group(1)}
    )
    by_owner = await signed_in.get("/ops/projects", params={"q": "dave"})
    by_id = await signed_in.get("/ops/projects", params={"q": str(ids[0])})
    by_id_prefix = await signed_in.get("/ops/projects", params={"q": str(other.id)[:8]})
    wildcard = await signed_in.get("/ops/projects", params={"q": "%_"})
    bad_cursor = await signed_in.get("/ops/projects", params={"cursor": "nonsense"})
    bad_status = await signed_in.get("/ops/projects", params={"status": "nonsense"})

    shown = [set(re.findall(r"/ops/projects/([0-9a-f-]{36})\"", r.text)) for r in (first, second)]
    assert (len(shown[0]), len(shown[1])) == (50, 5)
    assert shown[0] | shown[1] == {str(i) for i in ids}
    assert "Unrelated" in by_owner.text and "Weather" not in by_owner.text
    assert by_id.text.count('href="/ops/projects/' + str(ids[0])) == 1
    assert "Unrelated" in by_id_prefix.text
    assert "Unrelated" in wildcard.text and "Weather" not in wildcard.text
    assert (bad_cursor.status_code, bad_status.status_code) == (400, 400)


async def test_project_page_shows_fields_secrets_settings_and_history(
    signed_in: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await _failed(
        db_sessionmaker, code="github_forbidden", message="Resource not accessible by integration"
    )

    page = await signed_in.get(f"/ops/projects/{project_id}")
    missing = await signed_in.get(f"/ops/projects/{uuid.uuid4()}")
    not_an_id = await signed_in.get("/ops/projects/not-an-id")

    assert page.status_code == 200
    assert "Resource not accessible by integration" in page.text
    for kind in ("accepted", "attempt_started", "failed"):
        assert f"<strong>{kind}</strong>" in page.text
    assert "alice" in page.text
    assert (missing.status_code, not_an_id.status_code) == (404, 404)


async def test_overview_shows_counts_workers_and_the_oldest_pending(
    signed_in: httpx.AsyncClient,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
) -> None:
    await _failed(db_sessionmaker, code="github_forbidden", message="no")
    async with db_sessionmaker() as session, session.begin():
        oldest = await new_project(session, name="Oldest waiting")
    empty = await signed_in.get("/ops")
    await write_heartbeat(api_queue, api_queue.default_queue_name, this_worker(10))

    page = await signed_in.get("/ops")

    assert "No live worker" in empty.text
    assert "No live worker" not in page.text
    assert this_worker(10).worker_id in page.text
    assert f'href="/ops/projects/{oldest.id}">Oldest waiting</a>' in page.text
    assert "Projects by status: 1 pending_repo, 0 provisioning, 0 ready, 1 repo_failed" in page.text
    assert "Last 24 hours: 0 became ready, 1 failed" in page.text

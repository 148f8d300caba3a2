"""The console's reconcile and archive buttons on a real project: what the API does."""

from __future__ import annotations

import uuid

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.projects import repository
from tests.api.helpers import make_ready, queued_job_ids
from tests.api_fixtures import ApiTokens
from tests.db.helpers import FakeRepo, new_project
from tests.ops.conftest import csrf_of, sign_in


@pytest.fixture
async def signed_in(ops_client: httpx.AsyncClient, api_tokens: ApiTokens) -> httpx.AsyncClient:
    response = await sign_in(ops_client, api_tokens.ops)
    assert response.status_code == 303
    return ops_client


async def _ready(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker() as session, session.begin():
        project = await new_project(session)
    await make_ready(sessionmaker, project.id, FakeRepo())
    return str(project.id)


async def test_reconcile_button_asks_for_a_check_and_queues_it(
    signed_in: httpx.AsyncClient,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
) -> None:
    project_id = await _ready(db_sessionmaker)
    page = await signed_in.get(f"/ops/projects/{project_id}")
    assert f'id="reconcile-{project_id}"' in page.text
    assert f'href="/ops/projects/{project_id}/archive"' in page.text
    confirm = await signed_in.get(f"/ops/projects/{project_id}/archive?purge=true")
    assert confirm.status_code == 200
    assert f'id="archive-{project_id}"' in confirm.text and "Yes, delete it" in confirm.text

    response = await signed_in.post(
        f"/ops/projects/{project_id}/reconcile", data={"csrf": csrf_of(page.text)}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/ops/projects/{project_id}?notice=reconcile_requested"
    assert any(j.startswith(f"maintain:{project_id}:") for j in await queued_job_ids(api_queue))
    async with db_sessionmaker() as session:
        project = await repository.get_project(session, uuid.UUID(project_id))
        events = await repository.list_events(session, project.id, limit=20) if project else []
    assert project is not None and project.reconcile_requested
    assert events[-1].kind == "reconcile_requested"
    assert events[-1].data["actor"] == "oscar-ops"
    assert "Drift check requested" in (await signed_in.get(response.headers["location"])).text


async def test_archive_and_purge_buttons_archive_like_the_api(
    signed_in: httpx.AsyncClient,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
) -> None:
    project_id = await _ready(db_sessionmaker)
    page = await signed_in.get(f"/ops/projects/{project_id}/archive")
    assert "Yes, archive it" in page.text

    archived = await signed_in.post(
        f"/ops/projects/{project_id}/archive", data={"csrf": csrf_of(page.text)}
    )
    again = await signed_in.get(archived.headers["location"])
    purged = await signed_in.post(
        f"/ops/projects/{project_id}/archive", data={"csrf": csrf_of(again.text), "purge": "true"}
    )

    assert archived.status_code == 303 and purged.status_code == 303
    assert "Archive requested" in again.text
    assert f'id="reconcile-{project_id}"' not in again.text  # archiving: nothing to check
    assert purged.headers["location"].endswith("notice=purge_requested")
    async with db_sessionmaker() as session:
        events = await repository.list_events(session, uuid.UUID(project_id), limit=20)
    asked = [e.data["mode"] for e in events if e.kind == "archive_requested"]
    assert asked == ["archive", "purge"]
    assert (
        sum(j.startswith(f"maintain:{project_id}:") for j in await queued_job_ids(api_queue)) >= 1
    )


async def test_a_form_without_the_csrf_token_is_refused(
    signed_in: httpx.AsyncClient, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await _ready(db_sessionmaker)
    for action in ("reconcile", "archive"):
        refused = await signed_in.post(f"/ops/projects/{project_id}/{action}", data={"x": "1"})
        assert refused.status_code == 403
    async with db_sessionmaker() as session:
        events = await repository.list_events(session, uuid.UUID(project_id), limit=20)
    assert [e.kind for e in events][-1] == "ready"

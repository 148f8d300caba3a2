"""Progress writes: one statement each, guarded by generation and status, committed on their
own; the worker's sink runs them in order and saves a run of secrets in one statement."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.engine import autocommit_scope, session_scope
from shared.projects import lifecycle, progress, repository
from shared.projects.models import Project, ProjectEvent
from tests.db.helpers import FakeRepo, new_project
from tests.worker_fixtures import WorkerHarness
from worker.progress import WRITE_AFTER_S, DatabaseProgress

pytestmark = pytest.mark.integration

REPO = FakeRepo()


@contextmanager
def statements(sessionmaker: async_sessionmaker[AsyncSession]) -> Iterator[list[str]]:
    """The SQL the sessionmaker's engine sends while the block runs."""
    engine = sessionmaker.kw["bind"].sync_engine
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _provisioning(
    sessionmaker: async_sessionmaker[AsyncSession], secrets: dict[str, bytes] | None = None
) -> uuid.UUID:
    async with session_scope(sessionmaker) as session:
        project = await new_project(session, secrets=secrets)
        started = await lifecycle.start_attempt(session, project.id, 1, job_try=1)
        assert started is not None
        return project.id


async def _record_repository(session: AsyncSession, project_id: uuid.UUID, generation: int) -> None:
    await progress.record_repository(
        session,
        project_id,
        generation,
        github_id=REPO.id,
        owner=REPO.owner,
        full_name=REPO.full_name,
        html_url=REPO.html_url,
        clone_url=REPO.clone_url,
        default_branch=REPO.default_branch,
        created=True,
    )


async def _state(
    sessionmaker: async_sessionmaker[AsyncSession], project_id: uuid.UUID
) -> tuple[Project, list[ProjectEvent]]:
    async with sessionmaker() as session:
        project = await repository.get_project(session, project_id)
        assert project is not None
        return project, await repository.list_events(session, project_id, limit=100)


async def test_the_repository_and_its_event_are_one_statement(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker)

    with statements(db_sessionmaker) as sent:
        async with autocommit_scope(db_sessionmaker) as session:
            await _record_repository(session, project_id, 1)

    assert len(sent) == 1 and sent[0].startswith("WITH saved AS (UPDATE projects")
    project, events = await _state(db_sessionmaker, project_id)
    assert (project.repo_github_id, project.repo_full_name, project.repo_created) == (
        REPO.id,
        REPO.full_name,
        True,
    )
    assert project.version == 2  # progress is not in the API view: no new ETag
    last = events[-1]
    assert (last.kind, last.generation, last.attempt) == ("repo_created", 1, 1)
    assert last.data == {"repo_full_name": REPO.full_name, "github_id": REPO.id}


async def test_a_stale_generation_or_a_finished_project_keeps_its_row_and_history(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker)
    async with autocommit_scope(db_sessionmaker) as session:
        await _record_repository(session, project_id, 2)  # a newer generation's job
        await progress.record_create_sent(session, project_id, 2, sent_at=datetime.now(UTC))
        await progress.record_project_file(session, project_id, 2, sha="s", digest="d")
    async with session_scope(db_sessionmaker) as session:
        project = await repository.get_project(session, project_id, for_update=True)
        assert project is not None
        await lifecycle.mark_failed(session, project, code="x", message="y")
    async with autocommit_scope(db_sessionmaker) as session:
        await _record_repository(session, project_id, 1)  # no longer provisioning
        await progress.record_actions_key(session, project_id, 1, key_id="k", key="v")

    project, events = await _state(db_sessionmaker, project_id)
    assert project.repo_github_id is None and project.project_file_sha is None
    assert project.actions_key_id is None
    assert [e.kind for e in events] == ["accepted", "attempt_started", "failed"]


async def test_a_create_request_is_noted_in_its_generation(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker)
    sent_at = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)

    async with autocommit_scope(db_sessionmaker) as session:
        await progress.record_create_sent(session, project_id, 1, sent_at=sent_at)

    async with db_sessionmaker() as session:
        assert await progress.sent_creates(session, project_id, 1) == (sent_at,)
    _, events = await _state(db_sessionmaker, project_id)
    assert (events[-1].kind, events[-1].attempt) == ("create_sent", 1)


async def test_autocommit_scope_keeps_each_statement_when_the_block_fails(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker)

    async def write_then_fail() -> None:
        async with autocommit_scope(db_sessionmaker) as session:
            await progress.record_project_file(session, project_id, 1, sha="s1", digest="d1")
            raise RuntimeError("after the write")

    with pytest.raises(RuntimeError, match="after the write"):
        await write_then_fail()

    project, _ = await _state(db_sessionmaker, project_id)
    assert (project.project_file_sha, project.project_file_digest) == ("s1", "d1")


async def test_the_sink_saves_a_run_of_secrets_in_one_statement_in_order(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(
        db_sessionmaker, secrets={"A_KEY": b"a", "B_KEY": b"b", "C_KEY": b"c"}
    )
    sink = DatabaseProgress(db_sessionmaker, project_id, 1)

    with statements(db_sessionmaker) as sent:
        await sink.secret_set("A_KEY")  # nothing ran yet: the four writes are one batch
        await sink.secret_set("B_KEY")
        await sink.secret_set("C_KEY")
        await sink.project_file_committed("sha1", "digest1")
        await sink.drain()

    assert len(sent) == 2
    assert sent[0].startswith("UPDATE project_secrets")
    assert "projects SET project_file_sha" in sent[1]
    async with db_sessionmaker() as session:
        rows = await session.execute(text("SELECT name, state, ciphertext FROM project_secrets"))
        assert sorted(tuple(row) for row in rows) == [
            ("A_KEY", "set", None),
            ("B_KEY", "set", None),
            ("C_KEY", "set", None),
        ]
    project, _ = await _state(db_sessionmaker, project_id)
    assert project.project_file_digest == "digest1"


async def test_a_failed_write_fails_every_later_one(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker, secrets={"A_KEY": b"a"})
    sink = DatabaseProgress(db_sessionmaker, project_id, 1)

    async def broken(session: AsyncSession) -> None:
        await session.execute(text("SELECT no_such_column FROM projects"))

    sink._save(broken)
    await sink.secret_set("A_KEY")
    with pytest.raises(Exception, match="no_such_column"):
        await sink.drain()
    await sink.project_file_committed("sha1", "digest1")  # after the failure: not saved
    with pytest.raises(Exception, match="no_such_column"):
        await sink.drain()
    await sink.settle()  # only logs

    project, _ = await _state(db_sessionmaker, project_id)
    assert project.project_file_sha is None
    async with db_sessionmaker() as session:
        [state] = await repository.secret_states(session, project_id)
        assert state == ("A_KEY", "pending")


async def test_a_job_starts_with_four_statements_and_saves_each_step_in_one(
    harness: WorkerHarness,
) -> None:
    project_id = await harness.create(secrets={"A_KEY": "a"})

    with statements(harness.sessionmaker) as sent:
        await harness.run(cron_jobs=[])  # no sweep in the middle

    assert (await harness.project(project_id)).status == "ready"
    kinds = [" ".join(s.split()[:3]) for s in sent]
    assert kinds == [
        # the attempt: the locked row, its secrets, one UPDATE and both events in one INSERT
        "SELECT projects.id, projects.name,",
        "SELECT project_secrets.name, project_secrets.state,",
        "UPDATE projects SET",
        "INSERT INTO project_events",
        # each step's outcome, one statement each
        "INSERT INTO project_events",  # create_sent, before the create request
        "WITH saved AS",  # the repository and its event
        "UPDATE project_settings SET",  # a new repository: its settings back to pending
        "UPDATE projects SET",  # .project.yaml
        "UPDATE projects SET",  # the secrets key
        "UPDATE project_secrets SET",  # the secret
        # ready
        "SELECT projects.id, projects.name,",
        "UPDATE projects SET",
        "INSERT INTO project_events",
    ]


async def test_a_reported_step_is_saved_without_anyone_waiting_for_it(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _provisioning(db_sessionmaker)
    sink = DatabaseProgress(db_sessionmaker, project_id, 1)

    await sink.project_file_committed("sha1", "digest1")  # written a beat later
    await asyncio.sleep(WRITE_AFTER_S + 0.2)
    project, _ = await _state(db_sessionmaker, project_id)
    assert project.project_file_sha == "sha1"

"""The status machine on the real database: allowed transitions and refused ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.jobs import provision_job_id
from shared.projects import lifecycle, repository
from shared.projects.models import Project, ProjectEvent, ProjectStatus
from tests.db.helpers import FakeRepo, new_project


async def _events(session: AsyncSession, project: Project) -> list[ProjectEvent]:
    return await repository.list_events(session, project.id, limit=100)


async def _kinds(session: AsyncSession, project: Project) -> list[str]:
    return [event.kind for event in await _events(session, project)]


async def _provisioning(session: AsyncSession) -> Project:
    project = await new_project(session)
    started = await lifecycle.start_attempt(session, project.id, 1, job_try=1)
    assert started is project
    return project


async def test_accept_stores_pending_project_with_event(db_session: AsyncSession) -> None:
    project = await new_project(db_session, secrets={"API_KEY": b"sealed"}, idempotency_key="k1")

    assert project.status == ProjectStatus.PENDING_REPO
    assert (project.generation, project.attempts, project.version) == (1, 0, 1)
    assert project.config == {"language": "python"}
    assert project.created_at.tzinfo is not None
    [event] = await _events(db_session, project)
    assert (event.kind, event.generation, event.attempt) == ("accepted", 1, None)
    assert event.data == {"repo_name": project.repo_name, "secrets": ["API_KEY"]}
    assert await repository.secret_states(db_session, project.id) == [("API_KEY", "pending")]


async def test_accept_refuses_reused_idempotency_key(db_session: AsyncSession) -> None:
    first = await new_project(db_session, idempotency_key="same")

    with pytest.raises(lifecycle.IdempotencyKeyTaken):
        await new_project(db_session, idempotency_key="same")

    # The savepoint kept the transaction usable, and another owner may use the key.
    other = await new_project(db_session, idempotency_key="same", owner="bob")
    assert await repository.find_by_idempotency_key(db_session, "alice", "same") is first
    assert await repository.find_by_idempotency_key(db_session, "bob", "same") is other


async def test_accept_refuses_a_live_repo_name_in_other_case(db_session: AsyncSession) -> None:
    await new_project(db_session, repo_name="demo-bot")

    with pytest.raises(lifecycle.RepoNameInUse) as caught:
        await new_project(db_session, repo_name="Demo-Bot")
    assert caught.value.repo_name == "Demo-Bot"


async def test_start_attempt_moves_to_provisioning(db_session: AsyncSession) -> None:
    project = await new_project(db_session)
    project.next_attempt_at = datetime.now(UTC)

    started = await lifecycle.start_attempt(db_session, project.id, 1, job_try=3)

    assert started is project
    assert project.status == ProjectStatus.PROVISIONING
    assert (project.attempts, project.version) == (1, 2)
    assert project.next_attempt_at is None
    event = (await _events(db_session, project))[-1]
    assert (event.kind, event.attempt, event.data) == ("attempt_started", 1, {"job_try": 3})


async def test_start_attempt_again_counts_attempts(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)

    await lifecycle.start_attempt(db_session, project.id, 1, job_try=2)

    assert project.attempts == 2
    assert project.version == 3


@pytest.mark.parametrize("finish", ["ready", "failed", "stale", "missing"])
async def test_start_attempt_is_a_no_op_for_finished_or_stale_jobs(
    db_session: AsyncSession, finish: str
) -> None:
    project = await _provisioning(db_session)
    project_id, generation = project.id, 1
    if finish == "ready":
        await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=1)
    elif finish == "failed":
        await lifecycle.mark_failed(db_session, project, code="boom", message="no")
    elif finish == "stale":
        await lifecycle.mark_failed(db_session, project, code="boom", message="no")
        await lifecycle.request_retry(db_session, project, actor="ops")
        generation = 1  # the project is now in generation 2
    else:
        project_id = uuid.uuid4()
    version, kinds = project.version, await _kinds(db_session, project)

    assert await lifecycle.start_attempt(db_session, project_id, generation, job_try=1) is None

    await db_session.refresh(project)
    assert project.version == version
    assert await _kinds(db_session, project) == kinds


async def test_start_attempt_locks_the_row(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessionmaker() as setup, setup.begin():
        project_id = (await new_project(setup)).id

    async with db_sessionmaker() as worker, worker.begin():
        assert await lifecycle.start_attempt(worker, project_id, 1, job_try=1) is not None
        async with db_sessionmaker() as other, other.begin():
            locked = select(Project).where(Project.id == project_id).with_for_update(nowait=True)
            with pytest.raises(DBAPIError) as caught:
                await other.execute(locked)
            assert "could not obtain lock" in str(caught.value)


async def test_note_create_requested_keeps_the_first_time(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)

    await lifecycle.note_create_requested(db_session, project)
    first, version = project.create_requested_at, project.version
    await lifecycle.note_create_requested(db_session, project)

    assert first is not None
    assert (project.create_requested_at, project.version) == (first, version)
    assert (await _kinds(db_session, project)).count("create_requested") == 1


async def test_record_transient_failure_schedules_a_retry(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    retry_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    await lifecycle.record_transient_failure(
        db_session, project, code="rate_limited", message="slow down", retry_at=retry_at
    )

    assert project.status == ProjectStatus.PROVISIONING
    assert (project.last_error_code, project.last_error_message) == ("rate_limited", "slow down")
    assert project.next_attempt_at == retry_at
    event = (await _events(db_session, project))[-1]
    assert (event.kind, event.attempt) == ("github_error", 1)
    assert event.data == {
        "code": "rate_limited",
        "message": "slow down",
        "will_retry": True,
        "retry_at": "2030-01-02T03:04:05+00:00",
    }


async def test_record_transient_failure_needs_a_running_attempt(db_session: AsyncSession) -> None:
    project = await new_project(db_session)

    with pytest.raises(lifecycle.TransitionNotAllowed) as caught:
        await lifecycle.record_transient_failure(
            db_session, project, code="x", message="y", retry_at=datetime.now(UTC)
        )
    assert caught.value.status == ProjectStatus.PENDING_REPO


async def test_mark_ready_stores_the_repository(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    await lifecycle.record_transient_failure(
        db_session, project, code="x", message="y", retry_at=datetime.now(UTC)
    )

    await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=77)

    assert project.status == ProjectStatus.READY
    assert project.repo_github_id == 4242
    assert (project.repo_owner, project.repo_full_name) == ("acme", "acme/demo")
    assert project.repo_html_url == "https://github.com/acme/demo"
    assert project.repo_clone_url == "https://github.com/acme/demo.git"
    assert (project.repo_default_branch, project.installation_id) == ("main", 77)
    assert project.provisioned_at is not None
    assert (project.last_error_code, project.last_error_message, project.next_attempt_at) == (
        None,
        None,
        None,
    )
    event = (await _events(db_session, project))[-1]
    assert event.kind == "ready"
    assert event.data["repo_full_name"] == "acme/demo"


async def test_mark_ready_twice_is_refused(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=1)

    with pytest.raises(lifecycle.TransitionNotAllowed):
        await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=1)


async def test_mark_failed_records_the_error(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)

    await lifecycle.mark_failed(db_session, project, code="forbidden", message="no permission")

    assert project.status == ProjectStatus.REPO_FAILED
    assert project.last_error_code == "forbidden"
    event = (await _events(db_session, project))[-1]
    assert (event.kind, event.data) == ("failed", {"code": "forbidden", "message": "no permission"})


async def test_mark_failed_is_refused_for_a_ready_project(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=1)

    with pytest.raises(lifecycle.TransitionNotAllowed) as caught:
        await lifecycle.mark_failed(db_session, project, code="x", message="y")
    assert caught.value.status == ProjectStatus.READY
    assert project.status == ProjectStatus.READY


async def test_retry_of_a_failed_project_starts_a_new_generation(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    await lifecycle.mark_failed(db_session, project, code="boom", message="no")
    old_job = provision_job_id(project.id, project.generation)

    outcome = await lifecycle.request_retry(db_session, project, actor="ops:carol")

    assert outcome == "requeued"
    assert project.status == ProjectStatus.PENDING_REPO
    assert (project.generation, project.attempts) == (2, 0)
    assert (project.last_error_code, project.last_error_message) == (None, None)
    new_job = provision_job_id(project.id, project.generation)
    assert new_job == f"provision:{project.id}:2" != old_job
    event = (await _events(db_session, project))[-1]
    assert (event.kind, event.generation) == ("retry_requested", 2)
    assert event.data == {
        "actor": "ops:carol",
        "outcome": "requeued",
        "previous_error_code": "boom",
    }
    assert await lifecycle.start_attempt(db_session, project.id, 2, job_try=1) is project


@pytest.mark.parametrize("started", [False, True])
async def test_retry_of_an_unfinished_project_only_reenqueues(
    db_session: AsyncSession, started: bool
) -> None:
    project = await (_provisioning(db_session) if started else new_project(db_session))
    status, version = project.status, project.version

    assert await lifecycle.request_retry(db_session, project, actor="ops") == "reenqueue_only"

    assert (project.status, project.generation, project.version) == (status, 1, version + 1)
    event = (await _events(db_session, project))[-1]
    assert (event.kind, event.data) == (
        "retry_requested",
        {"actor": "ops", "outcome": "reenqueue_only"},
    )


async def test_retry_of_a_ready_project_is_refused(db_session: AsyncSession) -> None:
    project = await _provisioning(db_session)
    await lifecycle.mark_ready(db_session, project, repo=FakeRepo(), installation_id=1)

    with pytest.raises(lifecycle.TransitionNotAllowed) as caught:
        await lifecycle.request_retry(db_session, project, actor="ops")
    assert caught.value.status == "ready"
    assert "ready" in str(caught.value)


async def test_retry_refused_when_another_live_project_took_the_name(
    db_session: AsyncSession,
) -> None:
    failed = await _provisioning(db_session)
    await lifecycle.mark_failed(db_session, failed, code="boom", message="no")
    await new_project(db_session, repo_name=failed.repo_name.upper())

    with pytest.raises(lifecycle.RepoNameInUse):
        await lifecycle.request_retry(db_session, failed, actor="ops")

    await db_session.refresh(failed)
    assert (failed.status, failed.generation) == (ProjectStatus.REPO_FAILED, 1)


async def test_note_requeued_writes_an_event(db_session: AsyncSession) -> None:
    project = await new_project(db_session)

    await lifecycle.note_requeued(db_session, project, by="sweeper")
    await lifecycle.note_requeued(db_session, project, by="ops")

    assert project.version == 3
    assert (await _kinds(db_session, project))[-2:] == ["requeued_by_sweeper", "requeued_by_ops"]


async def test_every_change_moves_updated_at(db_session: AsyncSession) -> None:
    project = await new_project(db_session)
    await db_session.execute(text("UPDATE projects SET updated_at = now() - interval '1 hour'"))
    await db_session.refresh(project)
    before = project.updated_at

    await lifecycle.start_attempt(db_session, project.id, 1, job_try=1)

    assert project.updated_at - before >= timedelta(hours=1) - timedelta(seconds=1)

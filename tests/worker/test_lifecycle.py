"""The worker end to end: real arq Worker, real Redis and PostgreSQL, the GitHub sandbox."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import text

from sandbox import GitHubSandbox
from shared.crypto import SecretsCipher, generate_secrets_key
from shared.db.engine import session_scope
from shared.projects import lifecycle, repository
from shared.projects.secret_keys import purge_expired_secrets
from shared.provisioning.project_file import PROJECT_FILE_PATH, project_id_in
from tests.github_fixtures import ORG, Clock
from tests.worker_fixtures import WorkerHarness
from worker.provision import provision_project
from worker.sweeper import sweep_unfinished

pytestmark = pytest.mark.integration


async def test_project_becomes_ready(harness: WorkerHarness, github_sandbox: GitHubSandbox) -> None:
    project_id = await harness.create(secrets={"API_KEY": "k1", "DB_URL": "postgres://x"})
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "ready"
    assert project.repo_full_name == f"{ORG}/testovyi-bot"
    assert project.repo_html_url and project.repo_clone_url
    assert project.attempts == 1
    assert project.last_error_code is None
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert project_id_in(repo.files[PROJECT_FILE_PATH]) == str(project_id)
    assert repo.secrets == {"API_KEY": "k1", "DB_URL": "postgres://x"}
    assert await harness.secret_rows(project_id) == {
        "API_KEY": ("set", None),
        "DB_URL": ("set", None),
    }  # values wiped once GitHub has them
    assert await harness.events(project_id) == [
        "accepted", "attempt_started", "create_requested", "create_sent", "repo_created", "ready",
    ]  # fmt: skip


async def test_transient_faults_then_ready(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    # Each request is tried 3 times before its job gives up on the attempt: two attempts.
    github_sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=502, times=6)
    github_sandbox.fail_next("PUT", r"/actions/secrets/", status=429, headers={"retry-after": "0"})
    project_id = await harness.create()
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "ready"
    assert project.attempts == 4
    events = await harness.events(project_id)
    assert events.count("github_error") == 3
    assert len(github_sandbox.repositories) == 1


async def test_permanent_fault_fails_with_its_code(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next(
        "POST", r"^/orgs/acme/repos$", status=403,
        body={"message": "Resource not accessible by integration"},
    )  # fmt: skip
    project_id = await harness.create()
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "github_forbidden"
    assert "Resource not accessible by integration" in (project.last_error_message or "")
    assert project.attempts == 1
    assert (await harness.events(project_id))[-1] == "failed"


async def test_transient_failures_are_retried_for_the_retry_window_then_fail(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=503, times=10_000)
    project_id = await harness.create()
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "tries_exhausted"
    assert "github_server_error" in (project.last_error_message or "")
    assert "over 5 s" in (project.last_error_message or "")
    assert project.attempts > 3  # time-based: as many attempts as fit in WORKER_RETRY_FOR_S


async def test_our_existing_repository_is_adopted(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    project_id = await harness.create(secrets={})
    async with session_scope(harness.sessionmaker) as session:
        project = await repository.get_project(session, project_id)
        assert project is not None
        names = [n for n, _ in await repository.secret_states(session, project_id)]
    from shared.provisioning.values import ProjectSpec

    spec = ProjectSpec(
        id=project.id, display_name=project.name, repo_name=project.repo_name,
        description=project.description, owner=project.owner, config=project.config,
        secret_names=names,
    )  # fmt: skip
    github_sandbox.add_repository(
        ORG, "testovyi-bot", files={PROJECT_FILE_PATH: spec.project_file().decode()}
    )
    await harness.run()
    assert (await harness.project(project_id)).status == "ready"
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert len(repo.commits) <= 1  # nothing new committed
    assert len(github_sandbox.repositories) == 1


async def test_foreign_repository_fails_as_name_taken(
    harness: WorkerHarness, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    clock.advance(-600)  # someone created it ten minutes before our first attempt
    github_sandbox.add_repository(ORG, "testovyi-bot", files={"README.md": "someone else's"})
    clock.advance(600)
    project_id = await harness.create()
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "repo_name_taken"
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert repo.secrets == {}
    assert PROJECT_FILE_PATH not in repo.files


async def test_sweeper_recovers_after_redis_is_flushed(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    project_id = await harness.create()
    await harness.queue.flushdb()  # Redis lost every job (FLUSHALL, scoped to the test's db)
    await harness.run()
    assert (await harness.project(project_id)).status == "pending_repo"
    requeued = await sweep_unfinished({"state": harness.state, "redis": harness.queue})
    assert requeued == 1
    again = await sweep_unfinished({"state": harness.state, "redis": harness.queue})
    assert again == 0  # the job is queued now: left alone
    await harness.run()
    assert (await harness.project(project_id)).status == "ready"
    assert "requeued_by_sweeper" in await harness.events(project_id)


async def test_ops_retry_of_a_failed_project(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    forbidden = {"message": "Resource not accessible by integration"}
    github_sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=403, body=forbidden)
    project_id = await harness.create()
    await harness.run()
    assert (await harness.project(project_id)).status == "repo_failed"
    async with session_scope(harness.sessionmaker) as session:
        project = await repository.get_project(session, project_id, for_update=True)
        assert project is not None
        assert await lifecycle.request_retry(session, project, actor="ops-alice") == "requeued"
        generation = project.generation
    assert generation == 2
    assert await harness.state.fair.submit(project_id, generation, "alice")
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "ready"
    assert project.generation == 2
    assert project.attempts == 1
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert repo.secrets == {"API_KEY": "canary-value"}


async def test_job_for_a_ready_project_does_nothing(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    project_id = await harness.create()
    await harness.run()
    github_sandbox.reset_requests()
    job_id = f"provision:{project_id}:1"
    ctx = {"state": harness.state, "redis": harness.queue, "job_try": 1, "job_id": job_id}
    assert await provision_project(ctx, str(project_id)) == "skipped"
    stale = {**ctx, "job_id": f"provision:{project_id}:0"}
    assert await provision_project(stale, str(project_id)) == "skipped"
    assert github_sandbox.count() == 0
    assert (await harness.project(project_id)).version == (
        await harness.project(project_id)
    ).version


async def test_secret_refused_by_github_is_reported(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/actions/secrets/BAD$", status=422,
                             body={"message": "Validation Failed"}, times=2)  # fmt: skip
    project_id = await harness.create(secrets={"BAD": "x", "GOOD": "y"})
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "secrets_incomplete"
    rows = await harness.secret_rows(project_id)
    assert rows["GOOD"] == ("set", None)
    assert rows["BAD"][0] == "failed"
    assert rows["BAD"][1] is not None  # kept encrypted so an ops retry can send it


async def test_a_secret_the_key_cannot_decrypt_fails_the_project_once(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    """A decrypt failure is classified like any other: recorded with its own code, no loop."""
    project_id = await harness.create(secrets={"API_KEY": "k1"})
    other_key = SecretsCipher.from_base64(generate_secrets_key())
    harness.state = dataclasses.replace(harness.state, cipher=other_key)

    await harness.run()

    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "secret_undecryptable"
    assert "SECRETS_KEY" in (project.last_error_message or "")
    assert project.attempts == 1
    assert (await harness.events(project_id))[-1] == "failed"
    assert github_sandbox.repositories == []  # nothing was asked of GitHub


async def test_job_runs_are_counted_by_outcome_and_code(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/contents/", status=502, times=3)  # one retried run
    ready = await harness.create(secrets={})
    await harness.run()
    assert (await harness.project(ready)).status == "ready"
    registry = harness.state.metrics.registry

    def runs(outcome: str, code: str) -> float:
        labels = {"outcome": outcome, "code": code}
        return registry.get_sample_value("provisioner_jobs_total", labels) or 0.0

    assert runs("succeeded", "") == 1
    assert runs("retried", "github_server_error") == 1
    assert (
        registry.get_sample_value(
            "provisioner_job_duration_seconds_count", {"outcome": "succeeded"}
        )
        == 1
    )


async def test_the_sweeper_gives_up_on_a_job_that_vanishes_again_and_again(
    harness: WorkerHarness,
) -> None:
    project_id = await harness.create()
    limit = harness.state.config.sweep_max_requeues
    ctx = {"state": harness.state, "redis": harness.queue}
    for _ in range(limit):
        await harness.queue.flushdb()  # the job is lost before any worker starts it
        assert await sweep_unfinished(ctx) == 1
    await harness.queue.flushdb()
    assert await sweep_unfinished(ctx) == 0
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "requeued_without_progress"
    assert (await harness.events(project_id)).count("requeued_by_sweeper") == limit


async def test_a_stale_result_does_not_hold_back_a_resubmitted_job(
    harness: WorkerHarness,
) -> None:
    project_id = await harness.create()
    job_id = f"provision:{project_id}:1"
    await harness.queue.flushdb()
    # What arq leaves after a run that crashed: a result under the job's id.
    await harness.queue.set(f"arq:result:{job_id}", b'{"s":false}', ex=600)
    assert await harness.state.fair.submit(project_id, 1, "alice")
    queued = [
        raw.decode() for raw in await harness.queue.zrange(harness.queue_settings.queue_name, 0, -1)
    ]
    assert queued == [job_id]
    await harness.run()
    assert (await harness.project(project_id)).status == "ready"


async def test_a_retry_after_the_values_were_purged_fails_with_its_own_code(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    forbidden = {"message": "Resource not accessible by integration"}
    github_sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=403, body=forbidden)
    project_id = await harness.create(secrets={"API_KEY": "k"})
    await harness.run()
    async with session_scope(harness.sessionmaker) as session:
        await session.execute(
            text("UPDATE projects SET updated_at = now() - interval '8 days' WHERE id = :p"),
            {"p": project_id},
        )
        assert await purge_expired_secrets(session, retention_days=7) == 1
        project = await repository.get_project(session, project_id, for_update=True)
        assert project is not None
        await lifecycle.request_retry(session, project, actor="ops-alice")
    assert await harness.state.fair.submit(project_id, 2, "alice")
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "secrets_purged"
    assert "API_KEY" in (project.last_error_message or "")


async def test_the_sweeper_leaves_a_project_that_finished_after_its_scan(
    harness: WorkerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = await harness.create()
    await harness.run()
    assert (await harness.project(project_id)).status == "ready"
    # The scan saw it unfinished a moment ago; by the time the row is locked it is ready.
    raced = [(project_id, 1)]

    async def scanned(*_args: object, **_kwargs: object) -> list[tuple[uuid.UUID, int]]:
        return raced

    monkeypatch.setattr(repository, "stale_unfinished", scanned)
    await harness.queue.flushdb()
    assert await sweep_unfinished({"state": harness.state, "redis": harness.queue}) == 0
    assert "requeued_by_sweeper" not in await harness.events(project_id)
    assert not await harness.state.fair.job_alive(f"provision:{project_id}:1")

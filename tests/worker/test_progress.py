"""Durable progress: a retry resumes at the first unfinished step and asks GitHub nothing
about the finished ones (real arq worker, PostgreSQL, Redis and the sandbox)."""

from __future__ import annotations

import pytest

from sandbox import GitHubSandbox
from tests.github_fixtures import ORG
from tests.worker_fixtures import WorkerHarness

pytestmark = pytest.mark.integration

REPO = f"/repos/{ORG}/testovyi-bot"
SECRETS = {"A_KEY": "a", "B_KEY": "b", "C_KEY": "c"}


def _requests(sandbox: GitHubSandbox) -> dict[str, int]:
    return {
        "create": sandbox.count("POST", r"^/orgs/acme/repos$"),
        "get_repo": sandbox.count("GET", rf"^{REPO}$"),
        "get_file": sandbox.count("GET", rf"^{REPO}/contents/"),
        "put_file": sandbox.count("PUT", rf"^{REPO}/contents/"),
        "get_key": sandbox.count("GET", rf"^{REPO}/actions/secrets/public-key$"),
        "A_KEY": sandbox.count("PUT", rf"^{REPO}/actions/secrets/A_KEY$"),
        "B_KEY": sandbox.count("PUT", rf"^{REPO}/actions/secrets/B_KEY$"),
        "C_KEY": sandbox.count("PUT", rf"^{REPO}/actions/secrets/C_KEY$"),
    }


async def _ready_after(harness: WorkerHarness, sandbox: GitHubSandbox) -> dict[str, int]:
    project_id = await harness.create(secrets=SECRETS)
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "ready", project.last_error_message
    assert project.attempts >= 2
    repo = sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None and repo.secrets == SECRETS
    return _requests(sandbox)


async def test_a_failed_file_commit_resumes_without_creating_again(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/contents/", status=502, times=4)
    counts = await _ready_after(harness, github_sandbox)
    assert counts["create"] == 1
    assert counts["get_repo"] == 0
    assert counts["get_file"] == 0  # we created it: nothing to read first
    assert counts["get_key"] == 1
    assert (counts["A_KEY"], counts["B_KEY"], counts["C_KEY"]) == (1, 1, 1)


async def test_a_failed_key_read_resumes_without_the_repository_or_file_steps(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("GET", r"/actions/secrets/public-key$", status=502, times=4)
    counts = await _ready_after(harness, github_sandbox)
    assert counts["create"] == 1
    assert counts["put_file"] == 1 and counts["get_file"] == 0
    assert (counts["A_KEY"], counts["B_KEY"], counts["C_KEY"]) == (1, 1, 1)


async def test_a_failed_secret_resumes_at_that_secret(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/actions/secrets/B_KEY$", status=502, times=4)
    counts = await _ready_after(harness, github_sandbox)
    assert counts["create"] == 1
    assert counts["put_file"] == 1
    assert counts["get_key"] == 1  # saved with the progress: a resumed job needs no GET
    assert counts["A_KEY"] == 1  # set before the failure: never sent again
    assert counts["C_KEY"] == 1


async def test_every_finished_step_is_saved_as_it_happens(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/actions/secrets/B_KEY$", status=422, times=2)
    project_id = await harness.create(secrets=SECRETS)
    await harness.run()
    project = await harness.project(project_id)
    assert project.status == "repo_failed"
    assert project.last_error_code == "secrets_incomplete"
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert project.repo_github_id == repo.id and project.repo_created is True
    assert project.project_file_sha and project.project_file_digest
    assert project.actions_key_id
    rows = await harness.secret_rows(project_id)
    assert rows["A_KEY"] == ("set", None)
    assert rows["B_KEY"][0] == "failed"
    assert rows["C_KEY"] == ("set", None)
    assert "repo_created" in await harness.events(project_id)

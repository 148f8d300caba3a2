"""Every line a job writes carries the project id, the job id and the attempt."""

from __future__ import annotations

import pytest
import structlog
from structlog.testing import capture_logs

from sandbox import GitHubSandbox
from tests.worker_fixtures import WorkerHarness

pytestmark = pytest.mark.integration

JOB_LOGGERS = ("job.", "github.", "provisioning.")


async def test_job_lines_carry_project_job_and_attempt(
    harness: WorkerHarness, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("PUT", r"/contents/", status=502, times=3)  # two attempts
    project_id = await harness.create(secrets={"API_KEY": "job-log-canary"})
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as lines:
        await harness.run()
    job_lines = [line for line in lines if str(line["event"]).startswith(JOB_LOGGERS)]
    assert {line["event"] for line in job_lines} >= {
        "job.attempt_started", "job.will_retry", "job.ready", "github.request",
        "provisioning.repo_created", "provisioning.secrets_set",
    }  # fmt: skip
    for line in job_lines:
        assert line.get("project_id") == str(project_id), line
        assert line.get("job_id") == f"provision:{project_id}:1", line
        assert line.get("attempt") in (1, 2), line
    assert {line["attempt"] for line in job_lines} == {1, 2}
    assert not any("job-log-canary" in repr(line) for line in lines)

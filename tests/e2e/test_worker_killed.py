"""A worker killed with SIGKILL in the middle of a job: the job runs again and converges."""

from __future__ import annotations

import pytest

from provisioner_client import ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

JOB_TIMEOUT_S = 10
"""arq re-runs a job whose worker vanished once its in-progress key expires: timeout + 10 s."""


stack = module_stack("killed", redis_db=8, WORKER_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S))


@pytest.mark.timeout(90)
async def test_sigkilled_job_is_run_again_and_converges(stack: Stack) -> None:
    stack.sandbox.faults.latency_s = 0.5
    async with ProjectsClient(stack.api_url, await stack.token("user", "k")) as client:
        created = await client.create("Killed midway", secrets={"TOKEN_A": "a", "TOKEN_B": "b"})
        project, etag = await client.wait_for_change(created["id"], wait_s=0)
        while project is None or project["status"] != "provisioning":
            project, etag = await client.wait_for_change(created["id"], wait_s=10, etag=etag)
        # The attempt has started; its GitHub calls take 0.5 s each: kill it midway.
        stack.kill("worker")
        stack.sandbox.faults.latency_s = 0
        stack.start_worker()
        ready = await client.wait_until_ready(created["id"], timeout_s=JOB_TIMEOUT_S + 40)
    assert ready["attempts"] == 2
    assert len(stack.sandbox.repositories) == 1
    repo = stack.sandbox.repositories[0]
    assert [c.path for c in repo.commits] == [PROJECT_FILE_PATH]
    assert repo.secrets == {"TOKEN_A": "a", "TOKEN_B": "b"}

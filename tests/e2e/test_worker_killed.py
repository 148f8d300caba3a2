"""A worker killed with SIGKILL in the middle of a job: the job runs again and converges."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from shared.projects_client import ProjectsClient
from shared.provisioning.project_file import PROJECT_FILE_PATH
from tests.stack import Stack, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

REDIS_URL = "redis://127.0.0.1:6379/8"
JOB_TIMEOUT_S = 10
"""arq re-runs a job whose worker vanished once its in-progress key expires: timeout + 10 s."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    module_database_url: str, app_key_pem: bytes, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with running_stack(
        database_url=module_database_url,
        app_key_pem=app_key_pem,
        workdir=tmp_path_factory.mktemp("killed"),
        redis_url=REDIS_URL,
        WORKER_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S),
    ) as running:
        yield running


@pytest.mark.timeout(90)
async def test_sigkilled_job_is_run_again_and_converges(stack: Stack) -> None:
    stack.sandbox.faults.latency_s = 0.5
    async with ProjectsClient(stack.api_url, await stack.token("user", "k")) as client:
        created = await client.create("Killed midway", secrets={"TOKEN_A": "a", "TOKEN_B": "b"})
        project, etag = await client.wait_for_change(created["id"], wait_s=0)
        while project is None or project["status"] != "provisioning":
            project, etag = await client.wait_for_change(created["id"], wait_s=10, etag=etag)
        # The attempt has started; its GitHub calls take 0.5 s each: kill it midway.
        stack.children.stop("worker", sig=signal.SIGKILL)
        stack.sandbox.faults.latency_s = 0
        stack.start_worker()
        ready = await client.wait_until_ready(created["id"], timeout_s=JOB_TIMEOUT_S + 40)
    assert ready["attempts"] == 2
    assert len(stack.sandbox.repositories) == 1
    repo = stack.sandbox.repositories[0]
    assert [c.path for c in repo.commits] == [PROJECT_FILE_PATH]
    assert repo.secrets == {"TOKEN_A": "a", "TOKEN_B": "b"}

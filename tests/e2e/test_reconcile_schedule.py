"""The drift schedule over real processes: with a short interval, a change made behind
the service's back is restored without anyone asking, and checks keep coming."""

from __future__ import annotations

import pytest

from provisioner_client import ProjectsClient
from tests.e2e.after_ready_helpers import wait_for
from tests.github_fixtures import ORG
from tests.stack import Stack, module_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

stack = module_stack(
    "reconcile_schedule", redis_db=10, RECONCILE_INTERVAL_S="2", WORKER_SWEEP_EVERY_S="5"
)


async def test_drift_is_restored_on_schedule(stack: Stack) -> None:
    async with ProjectsClient(stack.api_url, await stack.token("user", "sched")) as client:
        created = await client.create("Sched Bot", repository={"topics": ["kept"]})
        project = await client.wait_until_ready(created["id"], timeout_s=60, poll_s=5)
        stack.sandbox.set_topics(ORG, "sched-bot", ["changed"])
        checked = await wait_for(
            client, project["id"], lambda p: p["last_reconciled_at"] is not None, timeout_s=60
        )
        first = checked["last_reconciled_at"]
        later = await wait_for(
            client, project["id"], lambda p: p["last_reconciled_at"] != first, timeout_s=60
        )
        events = await client.events(project["id"])
    repo = stack.sandbox.repository(ORG, "sched-bot")
    assert repo is not None and repo.topics == ["kept"]
    corrected = [e for e in events if e["kind"] == "drift_corrected"]
    assert len(corrected) == 1  # once restored, the next check finds nothing
    assert corrected[0]["data"]["settings"]["topics"] == {"was": ["changed"], "now": ["kept"]}
    assert later["status"] == "ready"

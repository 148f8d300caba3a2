"""Each worker process writes its heartbeat while it runs, with its job counts, and
deletes it when it stops (the ops console and ``provisioner doctor`` list these)."""

from __future__ import annotations

import os
import socket
from typing import Any

from shared.heartbeats import WorkerBeat, live_workers
from tests.worker_fixtures import WorkerHarness


async def test_a_worker_is_listed_while_it_runs_and_gone_once_it_stops(
    harness: WorkerHarness,
) -> None:
    project_id = await harness.create()
    seen: list[list[WorkerBeat]] = []

    async def on_job_start(_ctx: dict[str, Any]) -> None:
        seen.append(await live_workers(harness.queue, harness.queue_settings.queue_name))

    await harness.run(on_job_start=on_job_start)

    assert (await harness.project(project_id)).status == "ready"
    assert seen, "the job never started"
    (beat,) = seen[0]
    assert (beat.host, beat.pid) == (socket.gethostname(), os.getpid())
    assert beat.interval_s == harness.state.config.health_check_interval_s
    assert await live_workers(harness.queue, harness.queue_settings.queue_name) == []

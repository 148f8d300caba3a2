"""A dispatched job starts at once, not at the worker's next poll (real arq worker and Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext

import pytest

from shared.jobs import wake_channel
from tests.worker_fixtures import WorkerHarness
from worker.main import build_worker

pytestmark = pytest.mark.integration

POLL_S = 30.0
"""Far longer than the test: only the wake-up can start the job in time."""


async def _listening(harness: WorkerHarness) -> bool:
    return await _subscribers(harness) > 0


async def _subscribers(harness: WorkerHarness) -> int:
    channel = wake_channel(harness.queue_settings.queue_name)
    [(_, count)] = await harness.queue.pubsub_numsub(channel)
    return int(count)


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> float:
    """Seconds until ``check()`` held (fails after ``timeout_s``)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < timeout_s, "not in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_job_starts_when_dispatched_not_at_the_next_poll(harness: WorkerHarness) -> None:
    worker = build_worker(
        harness.state.config,
        harness.queue_settings,
        lambda: nullcontext(harness.state),
        poll_delay=POLL_S,
        handle_signals=False,
        cron_jobs=[],
    )
    running = asyncio.create_task(worker.main())
    try:
        listening = await _until(lambda: _listening(harness))  # started, polled its empty queue
        assert listening < POLL_S
        project_id = await harness.create()

        async def ready() -> bool:
            return (await harness.project(project_id)).status == "ready"

        assert await _until(ready) < POLL_S / 3
    finally:
        await worker.close()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert await _subscribers(harness) == 0  # it stopped listening with the worker

"""Fair to every owner: one owner's flood does not starve another owner's project."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from shared.fair_queue import FairQueue
from shared.jobs import open_queue
from shared.settings import RedisSettings
from tests.worker_fixtures import TEST_REDIS_URL, WorkerHarness

pytestmark = pytest.mark.integration


async def test_a_lone_project_is_ready_after_a_handful_of_a_floods(
    harness: WorkerHarness,
) -> None:
    flood = [await harness.create(f"flood {n}", secrets={}, owner="owner-a") for n in range(200)]
    lone = await harness.create("lone project", secrets={}, owner="owner-b")

    await harness.run()

    ready_at: dict[uuid.UUID, datetime] = {}
    for pid in [*flood, lone]:
        project = await harness.project(pid)
        provisioned_at = project.provisioned_at
        assert isinstance(provisioned_at, datetime), (project.status, project.last_error_code)
        ready_at[pid] = provisioned_at
    before_lone = sum(1 for pid in flood if ready_at[pid] < ready_at[lone])
    # Four of owner-a's were dispatched before owner-b submitted; the next free slot
    # is owner-b's, and it runs beside three of owner-a's.
    print(f"owner-b ready after {before_lone} of owner-a's 200")
    assert before_lone <= 7, before_lone


@pytest.fixture
async def fair() -> AsyncIterator[FairQueue]:
    settings = RedisSettings(url=TEST_REDIS_URL, queue_name=f"fair-test:{uuid.uuid4().hex}")
    queue = await open_queue(settings)
    yield FairQueue(queue, settings.queue_name, in_flight=2, lease_s=0.3)
    keys = await queue.keys(f"{settings.queue_name}*")
    if keys:
        await queue.delete(*keys)
    await queue.aclose()


async def _queued(fair: FairQueue) -> list[str]:
    raw = await fair._queue.zrange(fair._queue_name, 0, -1)
    return [r.decode().split(":")[1] for r in raw]


async def test_dispatch_is_round_robin_within_the_slots(fair: FairQueue) -> None:
    a = [uuid.uuid4() for _ in range(3)]
    b = uuid.uuid4()
    for pid in a:
        assert await fair.submit(pid, 1, "owner-a")
    assert await fair.submit(b, 1, "owner-b")
    assert not await fair.submit(b, 1, "owner-b")  # already waiting: not twice
    assert set(await _queued(fair)) == {str(a[0]), str(a[1])}  # two slots
    depth = await fair.depth_by_owner()
    assert [(d.owner, d.waiting) for d in depth] == [("owner-a", 1), ("owner-b", 1)]

    await fair.finished(f"provision:{a[0]}:1")
    assert str(b) in await _queued(fair)  # a newcomer takes the next slot
    assert await fair.waiting_count() == 1
    assert await fair.job_alive(f"provision:{a[2]}:1")  # waiting counts as alive


async def test_a_dead_holders_slot_returns_after_its_lease(fair: FairQueue) -> None:
    first, second, third = (uuid.uuid4() for _ in range(3))
    for pid in (first, second, third):
        await fair.submit(pid, 1, "owner-a")
    assert len(await _queued(fair)) == 2
    await asyncio.sleep(0.4)  # the two holders never finish: their 0.3 s leases end
    assert await fair.dispatch() == 1
    assert str(third) in await _queued(fair)

"""Start a job the moment it is dispatched, not at the worker's next poll.

arq looks at its queue every ``WORKER_POLL_DELAY_S``, so a job put on an idle
queue waited half of that on average (and up to all of it) before it started.
The fair queue announces every job it moves into arq's queue on the queue's
wake channel (:func:`shared.jobs.wake_channel`); each worker listens there and
at once does what its poll would: read the due jobs and ``Worker.start_jobs``
them, which starts each on one worker only, as when several workers poll.
Polling goes on as before: it starts deferred jobs when they fall due and
whatever a lost message (or a listener reconnecting) missed.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from arq.utils import timestamp_ms
from arq.worker import Worker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.jobs import wake_channel

__all__ = ["Wakeup", "start_due_jobs"]

_log = structlog.get_logger(__name__)
_RECONNECT_MIN_S = 0.5
_RECONNECT_MAX_S = 30.0


async def start_due_jobs(worker: Worker) -> None:
    """One poll of ``worker``'s queue: start the jobs that are due, as far as it has room."""
    if not worker.allow_pick_jobs or worker.job_counter >= worker.max_jobs:
        return
    job_ids = await worker.pool.zrangebyscore(
        worker.queue_name,
        min=float("-inf"),
        max=timestamp_ms(),
        start=0,
        num=worker.queue_read_limit,
    )
    await worker.start_jobs(job_ids)


class Wakeup:
    """Listens on ``queue_name``'s wake channel and starts due jobs on every message.

    Messages that arrive while a look is under way make one more look, not one each.
    """

    def __init__(self, worker: Worker, redis: Redis, queue_name: str) -> None:
        self._worker = worker
        self._redis = redis
        self._channel = wake_channel(queue_name)
        self._wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Listen (in the background) until :meth:`stop`."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="worker-wakeup-listen"),
            asyncio.create_task(self._start_when_told(), name="worker-wakeup-start"),
        ]

    async def stop(self) -> None:
        """Stop listening."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _listen(self) -> None:
        wait = _RECONNECT_MIN_S
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    wait = _RECONNECT_MIN_S
                    self._wanted.set()  # anything announced while we were not listening
                    async for _message in pubsub.listen():
                        self._wanted.set()
            except (OSError, RedisError) as exc:
                _log.warning(
                    "worker.wakeup_lost", error=f"{type(exc).__name__}: {exc}", retry_in_s=wait
                )
            await asyncio.sleep(wait)  # listening again soon; the poll goes on meanwhile
            wait = min(wait * 2, _RECONNECT_MAX_S)

    async def _start_when_told(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await start_due_jobs(self._worker)
            except (OSError, RedisError) as exc:  # the poll will find the jobs
                _log.warning("worker.wakeup_failed", error=f"{type(exc).__name__}: {exc}")

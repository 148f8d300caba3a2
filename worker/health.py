"""Liveness of workers: arq's per-host health key, and our per-process heartbeat.

arq refreshes ``<queue>:health-check:<host>`` every ``WORKER_HEALTH_CHECK_INTERVAL_S``;
the key names the host (a container's hostname), so a probe checks its own
worker, not whether any worker of the queue is alive. :class:`Heartbeat` writes
:mod:`shared.heartbeats`' per-process key on the same interval, which the ops
console and ``provisioner doctor`` list.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import replace

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.heartbeats import WorkerBeat, forget_heartbeat, this_worker, write_heartbeat
from shared.settings import RedisSettings

__all__ = ["Heartbeat", "JobCounts", "health_check_key", "worker_is_alive"]

_log = structlog.get_logger(__name__)

JobCounts = Callable[[], tuple[int, int, int, int]]
"""``(running, done, failed, retried)`` jobs of this worker so far."""


def health_check_key(queue_name: str, host: str | None = None) -> str:
    """The Redis key the worker on ``host`` (default: this one) keeps fresh."""
    return f"{queue_name}:health-check:{host or socket.gethostname()}"


async def worker_is_alive(settings: RedisSettings) -> tuple[bool, str]:
    """Whether this host's worker refreshed its key within its interval, and what it says."""
    redis = Redis.from_url(settings.url)
    try:
        value = await redis.get(health_check_key(settings.queue_name))
    finally:
        await redis.aclose()
    if value is None:
        return False, "no fresh health record from the worker on this host"
    return True, value.decode(errors="replace")


class Heartbeat:
    """Writes this worker's heartbeat every ``interval_s`` until :meth:`stop` deletes it."""

    def __init__(
        self, redis: Redis, queue_name: str, *, interval_s: float, counts: JobCounts
    ) -> None:
        self._redis = redis
        self._queue = queue_name
        self._counts = counts
        self._beat: WorkerBeat = this_worker(interval_s)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Write the first heartbeat now (so the worker is listed at once), then keep on."""
        await self._write()
        self._task = asyncio.create_task(self._forever(), name="worker-heartbeat")

    async def stop(self) -> None:
        """Stop writing and delete the heartbeat: the worker is gone."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(OSError, RedisError):
            await forget_heartbeat(self._redis, self._queue, self._beat)

    async def _write(self) -> None:
        running, done, failed, retried = self._counts()
        beat = replace(
            self._beat,
            jobs_running=running,
            jobs_done=done,
            jobs_failed=failed,
            jobs_retried=retried,
        )
        self._beat = await write_heartbeat(self._redis, self._queue, beat)

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self._beat.interval_s)
            try:
                await self._write()
            except (OSError, RedisError) as exc:  # Redis away: the key expires, and we retry
                _log.warning("worker.heartbeat_failed", error=repr(exc))

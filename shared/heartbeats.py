"""Worker heartbeats in Redis: one key per worker process, refreshed while it runs.

arq's own health-check key names only the host, so two workers on one host
share it; ours names the process. Each worker writes
``<queue>:heartbeat:<host>:<pid>`` (JSON) every ``WORKER_HEALTH_CHECK_INTERVAL_S``
with a time-to-live of :data:`TTL_INTERVALS` intervals, and deletes it when it
stops: a key that exists is a worker seen recently. The ops console and
``provisioner doctor`` read them with :func:`live_workers`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, replace

from redis.asyncio import Redis

__all__ = [
    "TTL_INTERVALS",
    "WorkerBeat",
    "forget_heartbeat",
    "heartbeat_key",
    "live_workers",
    "this_worker",
    "write_heartbeat",
]

TTL_INTERVALS = 3
"""A heartbeat lives this many intervals: one missed write does not make a worker vanish."""


@dataclass(frozen=True)
class WorkerBeat:
    """What one worker process last said about itself."""

    host: str
    pid: int
    started_at: float
    """Epoch seconds."""
    seen_at: float
    """Epoch seconds of this heartbeat."""
    interval_s: float
    """How often it writes one."""
    jobs_running: int = 0
    jobs_done: int = 0
    jobs_failed: int = 0
    jobs_retried: int = 0

    @property
    def worker_id(self) -> str:
        """``host:pid``."""
        return f"{self.host}:{self.pid}"

    def age_s(self, now: float | None = None) -> float:
        """Seconds since this heartbeat was written."""
        return max(0.0, (time.time() if now is None else now) - self.seen_at)


def this_worker(interval_s: float) -> WorkerBeat:
    """A first heartbeat for the calling process, started now."""
    now = time.time()
    return WorkerBeat(
        host=socket.gethostname(),
        pid=os.getpid(),
        started_at=now,
        seen_at=now,
        interval_s=interval_s,
    )


def heartbeat_key(queue_name: str, worker_id: str) -> str:
    """The Redis key of worker ``worker_id`` (``host:pid``) on ``queue_name``."""
    return f"{queue_name}:heartbeat:{worker_id}"


async def write_heartbeat(redis: Redis, queue_name: str, beat: WorkerBeat) -> WorkerBeat:
    """Store ``beat`` as seen now, expiring after :data:`TTL_INTERVALS` intervals."""
    fresh = replace(beat, seen_at=time.time())
    ttl_ms = max(1000, int(fresh.interval_s * TTL_INTERVALS * 1000))
    await redis.set(
        heartbeat_key(queue_name, fresh.worker_id), json.dumps(asdict(fresh)), px=ttl_ms
    )
    return fresh


async def forget_heartbeat(redis: Redis, queue_name: str, beat: WorkerBeat) -> None:
    """Delete the heartbeat of a worker that stops."""
    await redis.delete(heartbeat_key(queue_name, beat.worker_id))


def _parse(raw: bytes | str | None) -> WorkerBeat | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return WorkerBeat(**data)
    except (ValueError, TypeError):
        return None  # not ours (or from another version): not a live worker we can show


async def live_workers(redis: Redis, queue_name: str) -> list[WorkerBeat]:
    """Every worker of ``queue_name`` whose heartbeat has not expired, newest start first."""
    keys = [key async for key in redis.scan_iter(match=f"{queue_name}:heartbeat:*", count=500)]
    if not keys:
        return []
    beats = [_parse(raw) for raw in await redis.mget(keys)]
    found = [beat for beat in beats if beat is not None]
    return sorted(found, key=lambda beat: (-beat.started_at, beat.worker_id))

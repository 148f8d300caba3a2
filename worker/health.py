"""Liveness of one worker: the health key arq refreshes every ``WORKER_HEALTH_CHECK_INTERVAL_S``.

The key names the host (a container's hostname), so a probe checks its own
worker, not whether any worker of the queue is alive.
"""

from __future__ import annotations

import socket

from redis.asyncio import Redis

from shared.jobs import QueueSettings

__all__ = ["health_check_key", "worker_is_alive"]


def health_check_key(queue: QueueSettings, host: str | None = None) -> str:
    """The Redis key the worker on ``host`` (default: this one) keeps fresh."""
    return f"{queue.queue_name}:health-check:{host or socket.gethostname()}"


async def worker_is_alive(queue: QueueSettings | None = None) -> tuple[bool, str]:
    """Whether this host's worker refreshed its key within its interval, and what it says."""
    queue = queue or QueueSettings()
    redis = Redis.from_url(queue.redis_url)
    try:
        value = await redis.get(health_check_key(queue))
    finally:
        await redis.aclose()
    if value is None:
        return False, "no fresh health record from the worker on this host"
    return True, value.decode(errors="replace")

"""Liveness of one worker: the health key arq refreshes every ``WORKER_HEALTH_CHECK_INTERVAL_S``.

The key names the host (a container's hostname), so a probe checks its own
worker, not whether any worker of the queue is alive.
"""

from __future__ import annotations

import socket

from redis.asyncio import Redis

from shared.settings import RedisSettings

__all__ = ["health_check_key", "worker_is_alive"]


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

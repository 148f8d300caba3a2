"""Abuse limits: how much one owner, project or process may ask for, fleet-wide in Redis.

:class:`RateLimiter` is a sliding-window log in one Lua script (a sorted set
per key, scored by Redis ``TIME``), so it is atomic and holds across every
API process and clock: at most ``limit`` hits in any ``window_s``. A refused
hit is not recorded, and says how long until the oldest hit leaves the window.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import RequestRejected

__all__ = [
    "DEFAULT_ACTIVE_PROJECTS_PER_OWNER",
    "DEFAULT_CREATES_PER_OWNER_PER_MINUTE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_LONG_POLLS",
    "DEFAULT_TOKEN_MINTS_PER_PROJECT_PER_MINUTE",
    "AbuseLimits",
    "RateLimiter",
]

DEFAULT_CREATES_PER_OWNER_PER_MINUTE = 30
DEFAULT_ACTIVE_PROJECTS_PER_OWNER = 1000
DEFAULT_TOKEN_MINTS_PER_PROJECT_PER_MINUTE = 20
DEFAULT_MAX_LONG_POLLS = 2000

_log = structlog.get_logger(__name__)

# KEYS[1] the window's sorted set; ARGV: window (µs), limit, a unique member.
# Returns {1, 0} when the hit is recorded, else {0, µs until a slot frees}.
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return {1, 0}
"""


@dataclass(frozen=True)
class AbuseLimits:
    """The API's abuse limits (``API_*``); 0 means unlimited."""

    creates_per_owner_per_minute: int = DEFAULT_CREATES_PER_OWNER_PER_MINUTE
    active_projects_per_owner: int = DEFAULT_ACTIVE_PROJECTS_PER_OWNER
    token_mints_per_project_per_minute: int = DEFAULT_TOKEN_MINTS_PER_PROJECT_PER_MINUTE
    max_long_polls: int = DEFAULT_MAX_LONG_POLLS


DEFAULT_LIMITS = AbuseLimits()


class RateLimiter:
    """Sliding-window limits in Redis, shared by every process on it."""

    def __init__(self, redis: Redis, *, prefix: str = "provisioner:rate") -> None:
        self._script: Any = redis.register_script(_SLIDING_WINDOW)
        self._prefix = prefix

    async def hit(self, key: str, *, limit: int, window_s: float = 60.0) -> float | None:
        """Record a hit on ``key``; ``None`` if allowed, else seconds until one would be.

        ``limit`` 0 is unlimited. When Redis does not answer the hit is allowed
        (the limits guard against abuse; they must not take the API down with Redis).
        """
        if limit <= 0:
            return None
        try:
            allowed, wait_us = await self._script(
                keys=[f"{self._prefix}:{key}"],
                args=[int(window_s * 1_000_000), limit, uuid.uuid4().hex],
            )
        except (RedisError, OSError) as exc:
            _log.warning("rate_limit.unavailable", key=key, error=repr(exc))
            return None
        return None if int(allowed) else int(wait_us) / 1_000_000

    async def check(self, key: str, *, limit: int, what: str, window_s: float = 60.0) -> None:
        """Record a hit, or raise 429 ``rate_limited`` with ``Retry-After``."""
        wait_s = await self.hit(key, limit=limit, window_s=window_s)
        if wait_s is not None:
            raise RequestRejected(
                429,
                "rate_limited",
                f"at most {limit} {what} per {window_s:g} s: try again in {wait_s:.0f} s",
                retry_after=wait_s,
            )

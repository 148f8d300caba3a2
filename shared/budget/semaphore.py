"""At most ``max_in_flight`` requests in flight across the fleet, each slot a lease.

A lease is a member of a Redis sorted set scored by its expiry (Redis time). Acquiring
first drops expired members, then adds one if fewer than ``max_in_flight`` remain, in
one Lua script. A holder that dies without releasing (SIGKILL, lost network) keeps its
slot only until ``lease_s`` after its grant. Waiting polls with jittered, doubling
sleeps (``poll_min_s`` … ``poll_max_s``), always bounded by the caller's ``max_wait_s``;
waiters are not served strictly in arrival order.
"""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.models import BudgetWait, Lease, WaitReason
from shared.budget.store import BudgetStore, new_id

__all__ = ["FleetSemaphore", "jittered"]


def jittered(interval: float) -> float:
    """A sleep between half of ``interval`` and all of it (spreads pollers apart)."""
    return interval * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


class FleetSemaphore:
    """The fleet's in-flight slots. ``redis``: a ``redis.asyncio`` client; ``config``:
    ``max_in_flight``, ``lease_s`` and the poll intervals (the same in every process)."""

    def __init__(self, redis: Redis, config: BudgetConfig | None = None) -> None:
        self._store = BudgetStore(redis, config or BudgetConfig())

    async def _try(self) -> tuple[Lease | None, float, float]:
        id = new_id()
        reply = await self._store.step(
            id, write=False, max_wait_s=0.0, honour_pause=False, with_lease=True
        )
        if reply.status != "granted" or reply.lease_expires_at is None:
            return None, reply.now, reply.wait_s
        return Lease(id=id, granted_at=reply.now, expires_at=reply.lease_expires_at), reply.now, 0

    async def try_acquire(self) -> Lease | None:
        """A slot now, or ``None`` when all ``max_in_flight`` are held."""
        lease, _, _ = await self._try()
        return lease

    async def acquire(self, *, max_wait_s: float) -> Lease:
        """A slot, waiting at most ``max_wait_s`` seconds for one.

        Raises :class:`BudgetWait` (``in_flight``) when none freed up in time; its
        ``wait_s`` is a guess (at most 1 s, or until the oldest lease expires).
        """
        config = self._store.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, max_wait_s)
        interval = config.poll_min_s
        while True:
            lease, now, worst = await self._try()
            if lease is not None:
                return lease
            remaining = deadline - loop.time()
            if remaining <= 0:
                wait = min(1.0, worst)
                raise BudgetWait(wait_s=wait, retry_at=now + wait, reason=WaitReason.IN_FLIGHT)
            await asyncio.sleep(min(remaining, jittered(interval)))
            interval = min(interval * 2, config.poll_max_s)

    async def release(self, lease: Lease) -> bool:
        """Give the slot back; says whether it was still held (not expired)."""
        _, released = await self._store.cancel(lease.id)
        return released

    async def in_flight(self) -> int:
        """Leases held right now, fleet-wide."""
        return (await self._store.snapshot()).in_flight

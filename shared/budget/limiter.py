"""The fleet-wide write limiter on its own: reserve a write slot, or learn how long to wait.

:class:`GitHubBudget` uses the same write log (and adds leases and pauses); use this class
directly only where no concurrency slot is wanted. See :mod:`shared.budget` for the
algorithm and its guarantees.
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.models import Granted, WaitReason, WaitUntil
from shared.budget.store import BudgetStore, new_id

__all__ = ["WriteLimiter"]


class WriteLimiter:
    """``writes_per_minute`` and ``writes_per_hour`` for every process sharing ``redis``.

    ``redis``: a ``redis.asyncio`` client; ``config``: the limits (the same in every
    process).
    """

    def __init__(self, redis: Redis, config: BudgetConfig | None = None) -> None:
        self._store = BudgetStore(redis, config or BudgetConfig())

    @property
    def config(self) -> BudgetConfig:
        """The limits this limiter enforces."""
        return self._store.config

    async def reserve_write(
        self, max_wait_s: float, *, honour_pause: bool = True
    ) -> Granted | WaitUntil:
        """Reserve the earliest write slot, if it is at most ``max_wait_s`` seconds away.

        ``max_wait_s``: the longest the caller is willing to wait (0: only now).
        ``honour_pause``: no slot inside a fleet pause of writes (or of everything).

        Returns :class:`Granted` (sleep ``wait_s``, then send; the slot is the caller's
        alone, so concurrent waiters line up instead of retrying together) or
        :class:`WaitUntil` (nothing reserved; ``wait_s`` says when a slot could be had).
        Slots are handed out first come, first served.
        """
        id = new_id()
        reply = await self._store.step(
            id, write=True, max_wait_s=max_wait_s, honour_pause=honour_pause, with_lease=False
        )
        if reply.status == "wait":
            return WaitUntil(
                wait_s=reply.wait_s,
                retry_at=reply.now + reply.wait_s,
                reason=reply.reason or WaitReason.WRITE_QUEUE,
                detail=reply.detail,
            )
        assert reply.slot is not None, reply
        return Granted(id=id, slot=reply.slot, wait_s=reply.wait_s, reserved_at=reply.now)

    async def cancel(self, grant: Granted) -> bool:
        """Give back a slot whose write was never sent (always safe: an entry fewer can
        only make every window emptier). Says whether it was still reserved."""
        removed, _ = await self._store.cancel(grant.id)
        return removed

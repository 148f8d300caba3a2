"""Drift correction's lane: at most a share of the fleet's GitHub budget.

Requests sent inside :func:`reconcile_lane` first take a slot from two limiters of
their own (every request, and writes alone), each sized to ``RECONCILE_BUDGET_SHARE``
of what GitHub allows, then go through the fleet's gate like any other request. So
reconcile can never use more than its share, and new projects (outside the lane) keep
the rest. A lane that is out of slots defers the job (:class:`WaitForBudget`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.limiter import WriteLimiter
from shared.budget.models import Permit, WaitUntil, is_write_method
from shared.github.errors import WaitForBudget
from shared.github.transport import RequestGate

__all__ = ["PRIMARY_PER_HOUR", "REQUEST_BURST", "ShareGate", "in_reconcile_lane", "reconcile_lane"]

PRIMARY_PER_HOUR = 5000
"""GitHub's primary limit for an installation's requests (the least it grants)."""
LATE_START_S = 5.0
"""How late after its slot of the share a request may reach GitHub (it waits for the fleet's
gate, at most ``GITHUB_BUDGET_WAIT_S``, then travels): the share's windows are longer by this,
so no window on GitHub's side sees more than the share."""
REQUEST_BURST = 4
"""Drift checks may spend up to this many minutes' worth of their hourly request share in one
minute (one check reads and restores a dozen things at once); the hour's share holds."""
_LANE: ContextVar[bool] = ContextVar("reconcile_lane", default=False)


@contextlib.contextmanager
def reconcile_lane() -> Iterator[None]:
    """GitHub requests sent in this block count against drift correction's share."""
    token = _LANE.set(True)
    try:
        yield
    finally:
        _LANE.reset(token)


def in_reconcile_lane() -> bool:
    """Whether the current task is in :func:`reconcile_lane`."""
    return _LANE.get()


def _scaled(
    config: BudgetConfig, share: float, per_minute: float, per_hour: float, name: str
) -> BudgetConfig:
    return replace(
        config,
        writes_per_minute=max(1, math.floor(per_minute * share)),
        writes_per_hour=max(1, math.floor(per_hour * share)),
        safety_margin_s=config.safety_margin_s + LATE_START_S,
        key_prefix=f"{config.key_prefix}{name}:",
    )


class ShareGate:
    """``inner`` for every request; inside the lane, first a slot of the share."""

    def __init__(
        self, inner: RequestGate, redis: Redis, config: BudgetConfig, share: float
    ) -> None:
        self._inner = inner
        self.writes = WriteLimiter(
            redis,
            _scaled(
                config, share, config.writes_per_minute, config.writes_per_hour, "reconcile-writes"
            ),
        )
        """Drift correction's writes: ``share`` of the fleet's write limits."""
        self.requests = WriteLimiter(
            redis,
            _scaled(
                config,
                share,
                PRIMARY_PER_HOUR / 60 * REQUEST_BURST,
                PRIMARY_PER_HOUR,
                "reconcile-requests",
            ),
        )
        """Drift correction's requests of any kind: ``share`` of the primary limit."""

    async def acquire(self, method: str, *, max_wait_s: float) -> Permit:
        """A permit from ``inner``; in the lane, after a slot of the share."""
        if _LANE.get():
            await self._take(self.requests, max_wait_s)
            if is_write_method(method):
                await self._take(self.writes, max_wait_s)
        permit: Permit = await self._inner.acquire(method, max_wait_s=max_wait_s)
        return permit

    async def _take(self, limiter: WriteLimiter, max_wait_s: float) -> None:
        got = await limiter.reserve_write(max_wait_s, honour_pause=False)
        if isinstance(got, WaitUntil):
            until = datetime.now(UTC) + timedelta(seconds=got.wait_s)
            raise WaitForBudget(
                f"waiting for drift correction's share of GitHub's budget until {until:%H:%M:%S}Z",
                wait_s=got.wait_s,
                reason="reconcile_share",
            )
        if got.wait_s > 0:
            await asyncio.sleep(got.wait_s)

    async def release(
        self,
        permit: Permit,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
    ) -> None:
        """Give the permit back to ``inner``."""
        await self._inner.release(permit, response_headers, status, rate_limited=rate_limited)

"""Fleet pauses: one process learns GitHub wants a break, every process takes it.

A pause is a Redis hash per scope (``all``: reads and writes; ``writes``: writes only)
with ``until`` (Redis time), ``reason`` and ``set_at``. Setting one is a Lua script that
only ever moves ``until`` later: a shorter pause than the one in force changes nothing.
A rejection of a request that was granted before the pause in force was set (it was in
flight when the fleet already knew) is an *echo*: its duration is counted from that
pause's ``set_at``, not from now, so N concurrent identical rejections pause the fleet
once instead of N times in a row. Every acquire checks the pauses in the same script that
grants, so no request of the paused scope starts inside one.
"""

from __future__ import annotations

import math

import structlog
from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.headers import PauseOrder
from shared.budget.models import Pause, PauseResult, PauseScope
from shared.budget.store import BudgetStore

__all__ = ["FleetPause", "log_pause"]

_log = structlog.get_logger("shared.budget")


def log_pause(result: PauseResult) -> None:
    """Log a pause that took effect (warning), or an echo that did not (debug)."""
    if result.changed and result.pause is not None:
        _log.warning(
            "github_budget.paused",
            scope=result.pause.scope.value,
            until=round(result.pause.until, 3),
            reason=result.pause.reason,
            echo=result.echo,
        )
    elif result.echo:
        _log.debug("github_budget.pause_echo_ignored", until=result.pause and result.pause.until)


class FleetPause:
    """Pause and inspect the fleet. ``redis``: a ``redis.asyncio`` client; ``config``:
    the budget (its key prefix and ``max_pause_s`` matter here)."""

    def __init__(self, redis: Redis, config: BudgetConfig | None = None) -> None:
        self._store = BudgetStore(redis, config or BudgetConfig())

    async def pause(
        self,
        seconds: float,
        reason: str,
        *,
        scope: PauseScope = PauseScope.ALL,
        started_at: float = 0.0,
    ) -> PauseResult:
        """Pause ``scope`` for ``seconds`` from now (Redis clock), unless a pause that
        ends later is already in force; never shortens one.

        ``reason``: shown to ops and in every :class:`BudgetWait`; ``started_at``: the
        Redis time the rejected request was granted, when the pause answers a rejection
        (echo detection, see the module docstring); 0 for none. At most ``max_pause_s``.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("seconds must be a finite number >= 0")
        order = PauseOrder(scope, reason, seconds=seconds, started_at=started_at)
        result = (await self._store.update(pauses=[order])).pauses[0]
        log_pause(result)
        return result

    async def pause_until(
        self, until: float, reason: str, *, scope: PauseScope = PauseScope.ALL
    ) -> PauseResult:
        """Pause ``scope`` until the Redis time ``until`` (epoch seconds); never shortens."""
        if not math.isfinite(until):
            raise ValueError("until must be a finite number")
        order = PauseOrder(scope, reason, until=until)
        result = (await self._store.update(pauses=[order])).pauses[0]
        log_pause(result)
        return result

    async def current(self, scope: PauseScope = PauseScope.WRITES) -> Pause | None:
        """The pause that holds requests of ``scope`` (writes honour both scopes), if any."""
        return (await self._store.snapshot()).pause_for(scope)

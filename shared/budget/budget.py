"""The one object the GitHub client calls around each request: :class:`GitHubBudget`.

::

    permit = await budget.acquire(method, max_wait_s=5)   # may raise BudgetWait
    try:
        response = await http.request(method, url, ...)
    except BaseException:
        await budget.release(permit, None, None)            # sent, outcome unknown
        raise
    await budget.release(permit, response.headers, response.status_code)

Acquire right before sending (after minting tokens, building the body): the time from
grant to GitHub is what ``safety_margin_s`` has to cover. A permit that is acquired but
never used must still be released, with ``sent=False``. Answers to App-JWT requests
(``/app/...``) report the App's own primary bucket, not the installation's: release
their permits with ``response_headers=None`` (and the client's ``rate_limited`` verdict)
so they do not pose as the installation's ``core`` limit.

Redis errors propagate (``redis.exceptions.RedisError``): without Redis the fleet cannot
know its budget, so the caller should treat them as a transient failure rather than send
unbudgeted. A lease whose release fails lapses after ``lease_s``.

The client depends on the :class:`BudgetHook` protocol; :class:`NullBudget` satisfies it
without Redis.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Protocol

import structlog
from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.headers import lower_headers, parse_rate_limit, pauses_for_answer
from shared.budget.limiter import WriteLimiter
from shared.budget.models import (
    BudgetSnapshot,
    BudgetWait,
    Granted,
    PauseResult,
    PauseScope,
    Permit,
    WaitReason,
    WaitUntil,
    is_write_method,
)
from shared.budget.pause import FleetPause, log_pause
from shared.budget.semaphore import FleetSemaphore, jittered
from shared.budget.store import BudgetStore, new_id

__all__ = ["BudgetHook", "GitHubBudget", "NullBudget"]

_log = structlog.get_logger("shared.budget")


class BudgetHook(Protocol):
    """What a GitHub client needs from a budget: a permit before, a release after."""

    async def acquire(self, method: str, *, max_wait_s: float) -> Permit:
        """A permit to send one ``method`` request now, waiting at most ``max_wait_s``
        seconds; raises :class:`BudgetWait` (holding nothing) when that is not enough."""
        ...

    async def release(
        self,
        permit: Permit,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
        sent: bool = True,
    ) -> None:
        """Return ``permit`` after the request: ``response_headers``/``status`` of the
        answer (``None`` when there was none); ``rate_limited``: the client's verdict on
        a 403/429 (``None``: judge from status and headers); ``sent=False``: the request
        never left, so its write slot is given back too."""
        ...


class GitHubBudget:
    """The fleet-wide GitHub budget in Redis: write limits, in-flight slots, pauses,
    primary-limit tracking, snapshots.

    ``redis``: a ``redis.asyncio`` client (an ``arq`` pool is one); ``config``: the
    limits, the same in every process of the fleet.
    """

    def __init__(self, redis: Redis, config: BudgetConfig | None = None) -> None:
        self._config = config or BudgetConfig()
        self._store = BudgetStore(redis, self._config)
        self._tolerance_poll = self._config.start_tolerance_s / 4
        self.limiter = WriteLimiter(redis, self._config)
        """The write limiter alone (:meth:`WriteLimiter.reserve_write`)."""
        self.semaphore = FleetSemaphore(redis, self._config)
        """The in-flight slots alone."""
        self.pauses = FleetPause(redis, self._config)
        """Fleet pauses: set one by hand, or read the one in force."""

    @property
    def config(self) -> BudgetConfig:
        """The limits this budget enforces."""
        return self._config

    async def acquire(self, method: str, *, max_wait_s: float) -> Permit:
        """A permit to send one request now: no pause of its scope in force, an in-flight
        slot, and for a write (POST, PUT, PATCH, DELETE) a slot within both write windows.

        ``method``: the HTTP method; ``max_wait_s``: the longest this call may wait
        (sleeping for a reserved slot, a pause's end, or a free in-flight slot); 0 grants
        only what is free now.

        Raises :class:`BudgetWait` when the wait would be longer, without holding
        anything: no write slot, no lease. Cancelling the call gives back whatever it
        reserved, too.
        """
        write = is_write_method(method)
        id = new_id()
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + max(0.0, max_wait_s)
        interval = self._config.poll_min_s
        holding = False
        try:
            while True:
                remaining = max(0.0, deadline - loop.time())
                holding = True  # unknown until the reply arrives
                reply = await self._store.step(
                    id, write=write, max_wait_s=remaining, honour_pause=True, with_lease=True
                )
                if reply.status == "granted":
                    return Permit(
                        id=id,
                        method=method.upper(),
                        is_write=write,
                        granted_at=reply.now,
                        slot=reply.slot,
                        lease_expires_at=reply.lease_expires_at,
                        waited_s=loop.time() - started,
                    )
                if reply.status == "wait":
                    holding = False
                    reason = reply.reason or WaitReason.WRITE_QUEUE
                    _log.debug(
                        "github_budget.wait",
                        method=method,
                        reason=reason.value,
                        detail=reply.detail,
                        wait_s=round(reply.wait_s, 3),
                    )
                    raise BudgetWait(
                        wait_s=reply.wait_s,
                        retry_at=reply.now + reply.wait_s,
                        reason=reason,
                        detail=reply.detail,
                    )
                holding = write  # a write keeps its slot while it sleeps or waits for a lease
                if reply.status == "sleep":
                    interval = self._config.poll_min_s
                    await asyncio.sleep(reply.wait_s)
                    continue
                if remaining <= 0:  # busy: every in-flight slot taken, and no time left
                    wait = min(1.0, reply.wait_s)
                    raise BudgetWait(
                        wait_s=wait, retry_at=reply.now + wait, reason=WaitReason.IN_FLIGHT
                    )
                await asyncio.sleep(min(remaining, jittered(interval)))
                interval = min(interval * 2, self._config.poll_max_s)
                if write:  # its slot is due: poll often enough to start within tolerance
                    interval = min(interval, max(self._config.poll_min_s, self._tolerance_poll))
        except BaseException:
            if holding:
                try:
                    await asyncio.shield(self._store.cancel(id))
                except Exception as exc:  # Redis down: the entry ages out; keep the first error
                    _log.warning("github_budget.cancel_failed", permit=id, error=repr(exc))
            raise

    async def release(
        self,
        permit: Permit,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
        sent: bool = True,
    ) -> None:
        """Return ``permit`` and learn from the answer, in one round trip.

        ``response_headers``/``status``: the answer (``None`` when none came: a timeout
        still counts as a write GitHub may have seen). ``rate_limited``: the client's
        verdict on a 403/429 when it read the body (a secondary limit without
        ``retry-after`` is only recognisable there); ``None`` judges from status and
        headers. ``sent=False``: the request never left, so a write's slot is freed too.

        Records the primary limit (:meth:`observe`), pauses the fleet below
        ``primary_floor`` and after a rate-limit answer (see
        :func:`shared.budget.headers.pauses_for_answer`); echoes of one rejection pause
        once.
        """
        headers = lower_headers(response_headers)
        rl = parse_rate_limit(headers)
        track = rl if rl is not None and rl.resource in self._config.tracked_resources else None
        orders = pauses_for_answer(
            method=permit.method,
            is_write=permit.is_write,
            status=status,
            headers=headers,
            config=self._config,
            rate_limited=rate_limited,
            started_at=permit.granted_at,
        )
        reply = await self._store.update(
            release=permit.id, unsent=not sent and permit.is_write, primary=track, pauses=orders
        )
        if permit.lease_expires_at is not None and not reply.lease_released:
            _log.warning(
                "github_budget.lease_expired",
                method=permit.method,
                held_s=round(reply.now - permit.granted_at, 3),
                lease_s=self._config.lease_s,
            )
        for result in reply.pauses:
            log_pause(result)

    async def observe(self, headers: Mapping[str, str] | None) -> None:
        """Record the primary limit of an answer that was not acquired here; below
        ``primary_floor`` the whole fleet pauses until its reset. ``headers``: the answer's
        headers (any case). :meth:`release` already does this for its answer."""
        lowered = lower_headers(headers)
        rl = parse_rate_limit(lowered)
        if rl is None or rl.resource not in self._config.tracked_resources:
            return
        orders = pauses_for_answer(
            method="GET", is_write=False, status=None, headers=lowered, config=self._config
        )
        reply = await self._store.update(primary=rl, pauses=orders)
        for result in reply.pauses:
            log_pause(result)

    async def pause(
        self, seconds: float, reason: str, *, scope: PauseScope = PauseScope.ALL
    ) -> PauseResult:
        """Pause ``scope`` (everything, or writes only) for ``seconds``; extends, never
        shortens, a pause in force. ``reason`` is shown in every :class:`BudgetWait`."""
        return await self.pauses.pause(seconds, reason, scope=scope)

    async def reserve_write(self, max_wait_s: float) -> Granted | WaitUntil:
        """A write slot without an in-flight lease (see :meth:`WriteLimiter.reserve_write`)."""
        return await self.limiter.reserve_write(max_wait_s)

    async def snapshot(self) -> BudgetSnapshot:
        """The fleet's budget now, in one read-only round trip (cheap enough to scrape)."""
        return await self._store.snapshot()


class NullBudget:
    """A budget that grants everything at once and remembers nothing (no Redis).

    For tests and tools that talk to a sandbox; ``config`` only fills the snapshot's limits.
    """

    def __init__(self, config: BudgetConfig | None = None) -> None:
        self._config = config or BudgetConfig()

    @property
    def config(self) -> BudgetConfig:
        """The limits shown in :meth:`snapshot` (not enforced)."""
        return self._config

    async def acquire(self, method: str, *, max_wait_s: float) -> Permit:
        """A permit, at once."""
        return Permit(
            id="",
            method=method.upper(),
            is_write=is_write_method(method),
            granted_at=time.time(),
            slot=None,
            lease_expires_at=None,
            waited_s=0.0,
        )

    async def release(
        self,
        permit: Permit,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
        sent: bool = True,
    ) -> None:
        """Nothing to give back."""

    async def observe(self, headers: Mapping[str, str] | None) -> None:
        """Nothing to record."""

    async def pause(
        self, seconds: float, reason: str, *, scope: PauseScope = PauseScope.ALL
    ) -> PauseResult:
        """No pause is kept."""
        return PauseResult(changed=False, echo=False, pause=None)

    async def snapshot(self) -> BudgetSnapshot:
        """An idle budget."""
        c = self._config
        return BudgetSnapshot(
            now=time.time(),
            writes_last_minute=0,
            writes_last_hour=0,
            writes_scheduled=0,
            writes_per_minute=c.writes_per_minute,
            writes_per_hour=c.writes_per_hour,
            minute_window_s=c.minute_window_s,
            hour_window_s=c.hour_window_s,
            in_flight=0,
            max_in_flight=c.max_in_flight,
            pauses=(),
            primary=(),
        )

"""The budget's state in Redis and the Lua scripts that change it atomically.

Internal to :mod:`shared.budget`: the public classes wrap :class:`BudgetStore`. Every
script reads the clock with ``redis.call('TIME')`` (Redis 5+ replicates scripts by their
effects, so this is allowed before writes) and gets all six keys of the budget, which
share the prefix (and its Cluster hash tag). Numbers travel as strings both ways: Redis
would truncate a Lua number in a reply to an integer.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis

from shared.budget.config import BudgetConfig
from shared.budget.headers import PauseOrder, RateLimitHeaders
from shared.budget.models import (
    BudgetSnapshot,
    Pause,
    PauseResult,
    PauseScope,
    PrimaryObservation,
    WaitReason,
)
from shared.budget.scripts import CANCEL, SNAPSHOT, STEP, UPDATE

__all__ = ["BudgetStore", "StepReply", "UpdateReply", "new_id"]


_log = structlog.get_logger("shared.budget")


def new_id() -> str:
    """A fresh permit/lease/reservation id; the pid helps ops see who holds what."""
    return f"{os.getpid()}-{secrets.token_hex(8)}"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def _float(value: Any) -> float | None:
    text = _text(value)
    return float(text) if text else None


@dataclass(frozen=True, slots=True)
class StepReply:
    """One answer of the acquire step script (see ``STEP``)."""

    status: str
    now: float
    wait_s: float
    reason: WaitReason | None
    detail: str
    slot: float | None
    lease_expires_at: float | None
    epoch: str
    state_lost: bool

    @classmethod
    def parse(cls, raw: Sequence[Any]) -> StepReply:
        reason = _text(raw[3])
        return cls(
            status=_text(raw[0]),
            now=float(_text(raw[1])),
            wait_s=float(_text(raw[2])),
            reason=WaitReason(reason) if reason else None,
            detail=_text(raw[4]),
            slot=_float(raw[5]),
            lease_expires_at=_float(raw[6]),
            epoch=_text(raw[7]),
            state_lost=bool(int(raw[8])),
        )


@dataclass(frozen=True, slots=True)
class UpdateReply:
    """What an update did: the Redis time, whether a lease was released, whether the
    primary observation was stored, and one :class:`PauseResult` per order."""

    now: float
    lease_released: bool
    primary_stored: bool
    pauses: tuple[PauseResult, ...]


class BudgetStore:
    """The scripts, registered on one ``redis.asyncio`` client, and the calls to them.

    ``redis``: any ``redis.asyncio.Redis`` (``decode_responses`` either way; an
    ``arq`` pool is one); ``config``: the limits, shared by every process.
    """

    def __init__(self, redis: Redis, config: BudgetConfig) -> None:
        self.redis = redis
        self.config = config
        keys = config.keys
        self._keys = [
            keys.writes,
            keys.leases,
            keys.pause_all,
            keys.pause_writes,
            keys.primary,
            keys.epoch,
        ]
        self._epoch = ""  # the budget's identity as this store last saw it
        c = config
        self._base: list[str] = [
            str(c.writes_per_minute),
            repr(c.minute_window_s),
            str(c.writes_per_hour),
            repr(c.hour_window_s),
            repr(c.safety_margin_s),
            repr(c.start_tolerance_s),
            str(c.max_in_flight),
            repr(c.lease_s),
            repr(c.max_pause_s),
        ]
        self._step = redis.register_script(STEP)
        self._cancel = redis.register_script(CANCEL)
        self._update = redis.register_script(UPDATE)
        self._snapshot = redis.register_script(SNAPSHOT)

    async def step(
        self, id: str, *, write: bool, max_wait_s: float, honour_pause: bool, with_lease: bool
    ) -> StepReply:
        """One try at acquiring for ``id`` (see the ``STEP`` script for the replies)."""
        known = self._epoch
        args = [
            *self._base,
            id,
            "w" if write else "r",
            repr(max(0.0, max_wait_s)),
            "1" if honour_pause else "0",
            "1" if with_lease else "0",
            known,
            secrets.token_hex(8),
        ]
        reply = StepReply.parse(await self._step(keys=self._keys, args=args))
        if reply.state_lost:
            _log.error(
                "github_budget.state_lost",
                known=known,
                now=reply.epoch,
                paused_writes_s=self.config.minute_window_s + self.config.safety_margin_s,
            )
        self._epoch = reply.epoch
        return reply

    async def cancel(self, id: str) -> tuple[bool, bool]:
        """Forget ``id``'s write entry and lease; says which of the two existed."""
        raw = await self._cancel(keys=self._keys, args=[*self._base, id])
        return bool(int(raw[0])), bool(int(raw[1]))

    async def update(
        self,
        *,
        release: str = "",
        unsent: bool = False,
        primary: RateLimitHeaders | None = None,
        pauses: Sequence[PauseOrder] = (),
    ) -> UpdateReply:
        """Release lease ``release`` (and its write when ``unsent``), store ``primary``,
        apply ``pauses``, atomically."""
        args: list[str] = [*self._base, release, "1" if unsent else "0"]
        if primary is None:
            args += ["", "", "", "", ""]
        else:
            args += [
                primary.resource,
                "" if primary.limit is None else str(primary.limit),
                str(primary.remaining),
                "" if primary.used is None else str(primary.used),
                str(primary.reset),
            ]
        args.append(str(len(pauses)))
        for order in pauses:
            if order.until is not None:
                mode, value = "at", order.until
            else:
                mode, value = "for", order.seconds or 0.0
            args += [order.scope.value, mode, repr(value), order.reason, repr(order.started_at)]
        raw = await self._update(keys=self._keys, args=args)
        results: list[PauseResult] = []
        for i, order in enumerate(pauses):
            changed, echo, until, reason, set_at = raw[3 + 5 * i : 8 + 5 * i]
            until_f = _float(until)
            pause = (
                Pause(order.scope, until_f, _text(reason), _float(set_at) or 0.0)
                if until_f is not None
                else None
            )
            results.append(PauseResult(bool(int(changed)), bool(int(echo)), pause))
        return UpdateReply(
            now=float(_text(raw[0])),
            lease_released=bool(int(raw[1])),
            primary_stored=bool(int(raw[2])),
            pauses=tuple(results),
        )

    async def snapshot(self) -> BudgetSnapshot:
        """Everything ops want to see, in one read-only round trip."""
        raw = await self._snapshot(keys=self._keys, args=self._base)
        c = self.config
        now = float(_text(raw[0]))
        pauses: list[Pause] = []
        for i, scope in enumerate((PauseScope.ALL, PauseScope.WRITES)):
            until, reason, set_at = raw[5 + 3 * i : 8 + 3 * i]
            until_f = _float(until)
            if until_f is not None and until_f > now:
                pauses.append(Pause(scope, until_f, _text(reason), _float(set_at) or 0.0))
        fields = [_text(v) for v in raw[11:]]
        primary_raw: dict[str, dict[str, str]] = {}
        for name, value in zip(fields[::2], fields[1::2], strict=True):
            resource, _, field_name = name.rpartition(":")
            primary_raw.setdefault(resource, {})[field_name] = value
        primary = tuple(
            PrimaryObservation(
                resource=resource,
                limit=int(v["limit"]) if v.get("limit") else None,
                remaining=int(v["remaining"]),
                used=int(v["used"]) if v.get("used") else None,
                reset=float(v["reset"]),
                observed_at=float(v.get("observed_at") or 0.0),
            )
            for resource, v in sorted(primary_raw.items())
            if v.get("remaining") and v.get("reset")
        )
        return BudgetSnapshot(
            now=now,
            writes_last_minute=int(raw[1]),
            writes_last_hour=int(raw[2]),
            writes_scheduled=int(raw[3]),
            writes_per_minute=c.writes_per_minute,
            writes_per_hour=c.writes_per_hour,
            minute_window_s=c.minute_window_s,
            hour_window_s=c.hour_window_s,
            in_flight=int(raw[4]),
            max_in_flight=c.max_in_flight,
            pauses=tuple(pauses),
            primary=primary,
        )

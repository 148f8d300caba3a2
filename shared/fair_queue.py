"""Fair to every owner: provisioning jobs wait per owner and go to arq round-robin.

arq runs jobs in the order they were queued, so one owner who submits 500
projects would make everybody else's wait behind all of them. Jobs are
therefore submitted here first: each owner has a list, a ring holds the
owners with waiting jobs, and :meth:`FairQueue.dispatch` moves jobs into arq's
queue one owner at a time (round-robin), only while fewer than ``in_flight``
dispatched jobs are unfinished across the fleet. An owner who had nothing
waiting joins the ring at its head (as FQ-CoDel favours new flows), so a
newcomer's project takes the next free slot and runs beside at most
``in_flight - 1`` others; after that it is an owner like any other.

Every step is one Lua script (atomic across API and worker processes). A
dispatched job holds its slot under a lease, so a killed worker frees it when
the lease ends. A job popped here but not enqueued (the process died in
between) is re-enqueued by the sweeper, which counts a job as alive while it
waits here. Whatever is moved into arq's queue is announced on its wake channel
(:func:`shared.jobs.wake_channel`), so a worker starts it at once rather than at
its next poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from shared.jobs import PROVISION_JOB, discard_result, provision_job_id, wake_channel
from shared.settings import RedisSettings

__all__ = ["FairQueue", "OwnerDepth", "fair_queue"]

_log = structlog.get_logger(__name__)
_ALIVE = frozenset({JobStatus.deferred, JobStatus.queued, JobStatus.in_progress})

_POP_WHAT_FITS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local free = tonumber(ARGV[1]) - redis.call('ZCARD', KEYS[4])
local out = {}
while free > 0 do
  local owner = redis.call('LPOP', KEYS[1])
  if not owner then break end
  local list = ARGV[3] .. owner
  local payload = redis.call('LPOP', list)
  if payload then
    local job_id = cjson.decode(payload)['job_id']
    redis.call('SREM', KEYS[3], job_id)
    redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), job_id)
    table.insert(out, payload)
    free = free - 1
  end
  if redis.call('LLEN', list) > 0 then
    redis.call('RPUSH', KEYS[1], owner)
  else
    redis.call('SREM', KEYS[2], owner)
  end
end
"""
"""Pops what fits into ``out``: KEYS ring, members, waiting, active; ARGV in_flight,
lease_ms, owner prefix."""

_SUBMIT = (
    """
local added = 0
if redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 0 then
  redis.call('SADD', KEYS[3], ARGV[4])
  redis.call('RPUSH', KEYS[5], ARGV[6])
  if redis.call('SADD', KEYS[2], ARGV[5]) == 1 then redis.call('LPUSH', KEYS[1], ARGV[5]) end
  added = 1
end
"""
    + _POP_WHAT_FITS
    + """
table.insert(out, 1, added)
return out
"""
)
"""Queue a job behind its owner's (KEYS[5]; ARGV job_id, owner, payload after dispatch's),
then dispatch, in one round trip: ``{added, payload…}``."""

_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
"""


@dataclass(frozen=True)
class OwnerDepth:
    """How many of an owner's jobs wait for dispatch."""

    owner: str
    waiting: int


class FairQueue:
    """Per-owner waiting lists in front of arq's queue ``queue_name``, served round-robin.

    ``in_flight``: dispatched, unfinished jobs allowed across the fleet;
    ``lease_s``: how long a dispatched job holds its slot at most (longer than
    a job can run).
    """

    def __init__(self, queue: ArqRedis, queue_name: str, *, in_flight: int, lease_s: float) -> None:
        self._queue = queue
        self._queue_name = queue_name
        prefix = f"{queue_name}:fair"
        self._ring = f"{prefix}:ring"
        self._members = f"{prefix}:members"
        self._waiting = f"{prefix}:waiting"
        self._active = f"{prefix}:active"
        self._owner_prefix = f"{prefix}:owner:"
        self._wake = wake_channel(queue_name)
        self._in_flight = in_flight
        self._lease_ms = int(lease_s * 1000)
        self._submit = queue.register_script(_SUBMIT)
        self._dispatch = queue.register_script(_POP_WHAT_FITS + "return out")
        self._hold = queue.register_script(_HOLD)

    @property
    def queue_name(self) -> str:
        """arq's queue name (a prefix for keys of this deployment)."""
        return self._queue_name

    @property
    def queue(self) -> ArqRedis:
        """arq's queue behind the waiting lists (for jobs that skip them)."""
        return self._queue

    async def submit(self, project_id: UUID, generation: int, owner: str) -> bool:
        """Queue the project's job behind its owner's others, then dispatch what fits (one
        script: one round trip).

        ``False`` when that job is already waiting here.
        """
        job_id = provision_job_id(project_id, generation)
        payload = json.dumps(
            {"job_id": job_id, "project_id": str(project_id), "owner": owner},
            separators=(",", ":"),
        )
        keys = [self._ring, self._members, self._waiting, self._active, self._owner_prefix + owner]
        args: list[Any] = [self._in_flight, self._lease_ms, self._owner_prefix]
        added, *popped = await self._submit(keys=keys, args=[*args, job_id, owner, payload])
        await self._enqueue_popped(popped)
        return bool(added)

    async def dispatch(self) -> int:
        """Move waiting jobs into arq, one owner at a time, while slots are free."""
        keys = [self._ring, self._members, self._waiting, self._active]
        args: list[Any] = [self._in_flight, self._lease_ms, self._owner_prefix]
        popped = await self._dispatch(keys=keys, args=args)
        await self._enqueue_popped(popped)
        return len(popped)

    async def _enqueue_popped(self, popped: list[bytes]) -> None:
        for raw in popped:
            job = json.loads(raw)
            await self._enqueue(job["job_id"], job["project_id"], job["owner"])
        if popped:
            await self._wake_workers()

    async def _wake_workers(self) -> None:
        """Tell the workers there is work; if the message is lost, their poll finds it."""
        try:
            await self._queue.publish(self._wake, b"")
        except RedisError as exc:
            _log.warning("job.wake_failed", error=f"{type(exc).__name__}: {exc}")

    async def _enqueue(self, job_id: str, project_id: str, owner: str) -> None:
        job = await self._queue.enqueue_job(PROVISION_JOB, project_id, _job_id=job_id)
        if job is None and await self._status(job_id) == JobStatus.complete:
            # A finished run's result makes arq refuse the id: the project needs it again.
            await discard_result(self._queue, job_id)
            job = await self._queue.enqueue_job(PROVISION_JOB, project_id, _job_id=job_id)
        _log.info("job.dispatched", job_id=job_id, owner=owner, enqueued=job is not None)

    async def hold(self, job_id: str, seconds: float) -> None:
        """The job paused (it waits for the GitHub budget): it keeps its slot while it waits,
        so waiting jobs stay in their owners' lists instead of all piling up in arq."""
        await self._hold(keys=[self._active], args=[job_id, int(seconds * 1000) + self._lease_ms])

    async def finished(self, job_id: str) -> None:
        """The job's run ended (however it ended): free its slot and dispatch the next."""
        await self._queue.zrem(self._active, job_id)
        await self.dispatch()

    async def _status(self, job_id: str) -> JobStatus:
        return await Job(job_id, self._queue, _queue_name=self._queue_name).status()

    async def job_alive(self, job_id: str) -> bool:
        """Whether the job waits here for its turn, or arq has it queued, deferred or running."""
        if await self._queue.sismember(self._waiting, job_id):  # type: ignore[misc]
            return True
        return await self._status(job_id) in _ALIVE

    async def depth_by_owner(self, top: int = 10) -> list[OwnerDepth]:
        """The owners with the most waiting jobs, most first."""
        owners = [o.decode() for o in await self._queue.smembers(self._members)]  # type: ignore[misc]
        if not owners:
            return []
        async with self._queue.pipeline(transaction=False) as pipe:
            for owner in owners:
                pipe.llen(self._owner_prefix + owner)
            counts = await pipe.execute()
        depths = [OwnerDepth(o, int(n)) for o, n in zip(owners, counts, strict=True) if n]
        return sorted(depths, key=lambda d: (-d.waiting, d.owner))[:top]

    async def waiting_count(self) -> int:
        """Jobs waiting here across all owners."""
        return int(await self._queue.scard(self._waiting))  # type: ignore[misc]


def fair_queue(queue: ArqRedis, settings: RedisSettings) -> FairQueue:
    """The fair queue in front of ``settings.queue_name``, with the configured slots."""
    return FairQueue(
        queue,
        settings.queue_name,
        in_flight=settings.projects_in_flight,
        lease_s=settings.dispatch_lease_s,
    )

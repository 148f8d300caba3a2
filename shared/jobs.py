"""The provisioning job as both sides see it: its name, id, payload format and queue.

The API enqueues by name and never imports the worker. Payloads are JSON
(never pickle) and hold only the project id; the job id carries the
generation, so a duplicate enqueue of the same generation is a no-op.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

from arq.connections import ArqRedis, create_pool
from arq.connections import RedisSettings as ArqRedisSettings
from arq.constants import result_key_prefix

from shared.settings import RedisSettings

__all__ = [
    "MAINTAIN_JOB",
    "PROVISION_JOB",
    "arq_redis_settings",
    "deserialize",
    "discard_result",
    "enqueue_maintenance",
    "open_queue",
    "parse_job_id",
    "provision_job_id",
    "serialize",
    "wake_channel",
]

PROVISION_JOB = "provision_project"
MAINTAIN_JOB = "maintain_project"
"""Everything after provisioning: changes, secrets, drift correction, archiving."""


def arq_redis_settings(redis: RedisSettings) -> ArqRedisSettings:
    """arq's connection settings for the Redis section."""
    return ArqRedisSettings.from_dsn(redis.url)


def serialize(value: dict[str, Any]) -> bytes:
    """arq job serializer: JSON."""
    return json.dumps(value, default=str, separators=(",", ":")).encode()


def deserialize(data: bytes) -> dict[str, Any]:
    """arq job deserializer: JSON."""
    loaded = json.loads(data)
    if not isinstance(loaded, dict):
        raise ValueError("job payload is not a JSON object")
    return loaded


def provision_job_id(project_id: UUID, generation: int) -> str:
    """``provision:<project id>:<generation>``: one live job per generation."""
    return f"provision:{project_id}:{generation}"


def parse_job_id(job_id: str) -> tuple[UUID, int] | None:
    """The project id and generation in a provisioning job id, or ``None``."""
    parts = job_id.split(":")
    if len(parts) != 3 or parts[0] != "provision":
        return None
    try:
        return UUID(parts[1]), int(parts[2])
    except ValueError:
        return None


async def enqueue_maintenance(queue: ArqRedis, project_id: UUID, *, defer_s: float = 0) -> str:
    """Enqueue a maintenance job for the project; returns its id.

    Each has an id of its own: duplicates are harmless (one job at a time works on a
    project, and one finding nothing to do ends at once).
    """
    job_id = f"maintain:{project_id}:{uuid4().hex[:12]}"
    await queue.enqueue_job(
        MAINTAIN_JOB, str(project_id), _job_id=job_id, _defer_by=defer_s or None
    )
    return job_id


def wake_channel(queue_name: str) -> str:
    """The pub/sub channel told whenever jobs were put on ``queue_name``: workers listen
    there to start them at once instead of at their next poll."""
    return f"{queue_name}:wake"


async def open_queue(settings: RedisSettings) -> ArqRedis:
    """A Redis pool that enqueues with the JSON serializer onto ``settings.queue_name``."""
    return await create_pool(
        arq_redis_settings(settings),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=settings.queue_name,
    )


async def discard_result(queue: ArqRedis, job_id: str) -> None:
    """Forget a finished job's result, so that the same job id can be enqueued again.

    arq refuses a job id while its result is kept and has no public call to drop
    one; this is the only place that knows arq's result key.
    """
    await queue.delete(result_key_prefix + job_id)

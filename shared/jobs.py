"""The provisioning job as both sides see it: its name, id, payload format and queue.

The API enqueues by name and never imports the worker. Payloads are JSON
(never pickle) and hold only the project id; the job id carries the
generation, so a duplicate enqueue of the same generation is a no-op.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from arq.connections import ArqRedis, RedisSettings, create_pool
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "PROVISION_JOB",
    "QUEUE_NAME",
    "QueueSettings",
    "deserialize",
    "enqueue_provision",
    "open_queue",
    "parse_job_id",
    "provision_job_id",
    "serialize",
]

PROVISION_JOB = "provision_project"
QUEUE_NAME = "provisioner:queue"


class QueueSettings(BaseSettings):
    """Where jobs travel."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis for arq.")
    queue_name: str = Field(default=QUEUE_NAME, description="arq queue (tests use their own).")

    def arq(self) -> RedisSettings:
        """arq's connection settings for this URL."""
        return RedisSettings.from_dsn(self.redis_url)


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


async def open_queue(settings: QueueSettings | None = None) -> ArqRedis:
    """A Redis pool that enqueues with the JSON serializer."""
    settings = settings or QueueSettings()
    return await create_pool(
        settings.arq(),
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=settings.queue_name,
    )


async def enqueue_provision(queue: ArqRedis, project_id: UUID, generation: int) -> bool:
    """Enqueue the project's job; ``False`` when that generation's job already exists."""
    job = await queue.enqueue_job(
        PROVISION_JOB,
        str(project_id),
        _job_id=provision_job_id(project_id, generation),
    )
    return job is not None

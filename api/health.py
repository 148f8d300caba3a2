"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (PostgreSQL and Redis answer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import ResourcesDep
from api.errors import error_responses
from shared.errors import RequestRejected

__all__ = ["PROBE_TIMEOUT_S", "Health", "router"]

PROBE_TIMEOUT_S = 2.0

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """A probe's answer when all is well."""

    status: str = "ok"


@router.get(
    "/healthz",
    response_model=Health,
    responses=error_responses(500),
    summary="The process is up",
)
async def healthz() -> Health:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return Health()


@router.get(
    "/readyz",
    response_model=Health,
    responses=error_responses(500, 503),
    summary="PostgreSQL and Redis answer",
)
async def readyz(resources: ResourcesDep) -> Health:
    """200 when ``SELECT 1`` and ``PING`` both answer; 503 naming what did not."""

    async def database() -> None:
        async with resources.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    async def redis() -> None:
        await resources.queue.ping()

    failed: list[str] = []
    for name, probe in (("postgresql", database), ("redis", redis)):
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                await probe()
        except Exception as exc:
            failed.append(f"{name} ({type(exc).__name__})")
    if failed:
        raise RequestRejected(503, "not_ready", f"not ready: no answer from {', '.join(failed)}")
    return Health()

"""Abuse limits on creates and token mints (:mod:`shared.rate_limits`), checked before the work.

A create takes a slot of its owner's per-minute window (Redis) and, under an
advisory lock on the owner held until the create's transaction ends, counts
the owner's live projects, so concurrent creates cannot pass the cap together.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import RequestRejected
from shared.projects import repository
from shared.rate_limits import AbuseLimits, RateLimiter

__all__ = ["admit_create", "admit_mint"]

_ACTIVE_RETRY_AFTER_S = 60.0


async def admit_create(
    session: AsyncSession, limiter: RateLimiter | None, limits: AbuseLimits, owner: str
) -> None:
    """429 when ``owner`` created too many projects this minute or has too many live ones."""
    cap = limits.active_projects_per_owner
    if cap > 0:
        await repository.lock_owner(session, owner)
        if await repository.count_live(session, owner, up_to=cap) >= cap:
            raise RequestRejected(
                429,
                "too_many_projects",
                f"{owner} has {cap} projects that are not repo_failed, as many as allowed",
                retry_after=_ACTIVE_RETRY_AFTER_S,
            )
    if limiter is not None:
        await limiter.check(
            f"creates:{owner}", limit=limits.creates_per_owner_per_minute, what="project creates"
        )


async def admit_mint(
    limiter: RateLimiter | None, limits: AbuseLimits, project_id: uuid.UUID
) -> None:
    """429 when the project's repository tokens were minted too often this minute."""
    if limiter is not None:
        await limiter.check(
            f"mints:{project_id}",
            limit=limits.token_mints_per_project_per_minute,
            what="repository tokens",
        )

"""When drift checks are due, and which maintenance lost its job (for the schedule)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects.models import Project, ProjectStatus, SyncState

__all__ = ["due_for_reconcile", "give_up", "next_reconcile_at", "stale_maintenance"]


def next_reconcile_at(now: datetime, interval_s: float) -> datetime | None:
    """When the next scheduled check is due, jittered by ±10 % so checks stay spread."""
    if interval_s <= 0:
        return None
    return now + timedelta(seconds=interval_s * random.uniform(0.9, 1.1))  # noqa: S311


async def give_up(
    session: AsyncSession, project_id: uuid.UUID, *, reconcile_interval_s: float
) -> None:
    """A failing scheduled check is tried again at the next interval, not in a loop."""
    now = datetime.now(UTC)
    await session.execute(
        update(Project)
        .where(Project.id == project_id, Project.status == ProjectStatus.READY)
        .values(reconcile_due_at=next_reconcile_at(now, reconcile_interval_s))
        .execution_options(synchronize_session=False)
    )


async def due_for_reconcile(
    session: AsyncSession, *, now: datetime, limit: int, hold_s: float
) -> list[uuid.UUID]:
    """Ready projects whose check is due, oldest due first; each is held for ``hold_s``
    (its job sets the next due time) so the next scan does not enqueue it again."""
    ids = list(
        (
            await session.execute(
                select(Project.id)
                .where(Project.status == ProjectStatus.READY, Project.reconcile_due_at <= now)
                .order_by(Project.reconcile_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    if ids:
        await session.execute(
            update(Project)
            .where(Project.id.in_(ids))
            .values(reconcile_due_at=now + timedelta(seconds=hold_s), reconcile_requested=True)
            .execution_options(synchronize_session=False)
        )
    return ids


async def stale_maintenance(
    session: AsyncSession, *, older_than: datetime, now: datetime, limit: int
) -> list[uuid.UUID]:
    """Projects with maintenance waiting, untouched since ``older_than`` and no lease held:
    their job was lost (Redis flushed, an enqueue failed)."""
    stmt = (
        select(Project.id)
        .where(
            or_(
                Project.status == ProjectStatus.ARCHIVING,
                (Project.status == ProjectStatus.READY)
                & Project.sync_state.in_([SyncState.PENDING, SyncState.APPLYING]),
            ),
            Project.updated_at < older_than,
            or_(Project.maintenance_lease_until.is_(None), Project.maintenance_lease_until < now),
        )
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())

"""The maintenance schedule: due drift checks, and maintenance whose job was lost.

Runs on the sweeper's cron. Each ready project is checked every
``RECONCILE_INTERVAL_S`` (jittered, so checks spread over the interval); the checks
themselves draw only from drift correction's share of the GitHub budget, so a scan
enqueues at most what that share can serve before the next scan.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from shared.db.engine import session_scope
from shared.jobs import enqueue_maintenance
from shared.projects import reconcile_schedule
from shared.reconcile_share import PRIMARY_PER_HOUR
from worker.context import queue_of, state_of

__all__ = ["REQUESTS_PER_CHECK", "schedule_maintenance"]

REQUESTS_PER_CHECK = 8
"""About what one drift check costs (the repository, teams, people, rules, file...)."""
_log = structlog.get_logger(__name__)


def checks_per_scan(share: float, every_s: float) -> int:
    """How many checks drift correction's share of the primary limit serves per scan."""
    per_hour = PRIMARY_PER_HOUR * share / REQUESTS_PER_CHECK
    return max(1, math.ceil(per_hour * every_s / 3600))


async def schedule_maintenance(ctx: dict[str, Any]) -> int:
    """Enqueue due drift checks and lost maintenance; returns how many jobs."""
    state = state_of(ctx)
    queue = queue_of(ctx)
    config = state.config
    now = datetime.now(UTC)
    due: list[Any] = []
    async with session_scope(state.sessionmaker) as session:
        if config.reconcile_interval_s > 0:
            due = await reconcile_schedule.due_for_reconcile(
                session,
                now=now,
                limit=checks_per_scan(config.reconcile_budget_share, config.sweep_every_s),
                hold_s=max(600.0, config.job_timeout_s * 4.0),
            )
        lost = await reconcile_schedule.stale_maintenance(
            session,
            older_than=now - timedelta(seconds=config.sweep_grace_s),
            now=now,
            limit=100,
        )
    for project_id in {*due, *lost}:
        await enqueue_maintenance(queue, project_id)
    if due or lost:
        _log.info("maintenance.scheduled", reconcile=len(due), lost=len(lost))
    return len(due) + len(lost)

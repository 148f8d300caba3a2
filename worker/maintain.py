"""The maintenance job: a ready project's changes, secrets and drift; an archive or purge.

One job at a time works on a project (the lease in :mod:`shared.projects.maintenance`);
it loops while more work arrives, so a change made during a round is applied by the
same job. Budget waits defer the job without counting as a failure; transient GitHub
errors retry with backoff; a refusal for good is shown in the project's ``sync``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from arq.worker import Retry
from pydantic import SecretStr

from shared.db.engine import session_scope
from shared.errors import DatabaseUnavailable, InternalError
from shared.failures import classify
from shared.projects import maintenance, reconcile_schedule
from shared.projects.maintenance import MaintenanceOutcome, MaintenanceWork
from shared.projects.models import ProjectStatus
from shared.provisioning.converge import Converger
from shared.provisioning.reconcile import reconcile
from worker.backoff import retry_delay
from worker.context import WorkerState, state_of

__all__ = ["MAX_ROUNDS", "MAX_TRIES", "maintain_project"]

MAX_ROUNDS = 20
"""Rounds one job runs while changes keep arriving; then the next job takes over."""
MAX_TRIES = 12
"""A round failing transiently this many times in a row gives up (the sync shows why)."""

_log = structlog.get_logger(__name__)


async def maintain_project(ctx: dict[str, Any], project_id: str) -> str:
    """Do whatever the project waits for; returns what happened."""
    state = state_of(ctx)
    job_id: str = ctx["job_id"]
    job_try: int = ctx["job_try"]
    structlog.contextvars.bind_contextvars(project_id=project_id, job_id=job_id, attempt=job_try)
    started = time.monotonic()
    outcome = "crashed"
    try:
        outcome = await _rounds(state, UUID(project_id), job_try)
        return outcome
    except Retry:
        outcome = "retried"
        raise
    finally:
        state.metrics.job(f"maintenance_{outcome}", time.monotonic() - started, "")
        structlog.contextvars.unbind_contextvars("project_id", "job_id", "attempt")


async def _rounds(state: WorkerState, project_id: UUID, job_try: int) -> str:
    converger = Converger(state.github, state.provisioner)
    lease_s = state.config.job_timeout_s + 10.0
    did = "nothing_to_do"
    for _ in range(MAX_ROUNDS):
        async with session_scope(state.sessionmaker) as session:
            work = await maintenance.claim(
                session, project_id, lease_s=lease_s, now=datetime.now(UTC)
            )
        if work is None:
            if did == "nothing_to_do":
                _log.info("maintenance.nothing_to_do")
            return did
        outcome = MaintenanceOutcome()
        try:
            await _round(state, converger, work, outcome)
        except Exception as exc:
            await _failed(state, work, outcome, exc, job_try)  # raises Retry unless it gives up
            return "failed"
        async with session_scope(state.sessionmaker) as session:
            more = await maintenance.finish(
                session,
                work,
                outcome,
                reconcile_interval_s=state.config.reconcile_interval_s,
                attempt=job_try,
            )
        did = _what(work, outcome)
        _log.info(
            "maintenance.round_done",
            did=did,
            settings=len(outcome.settings_applied) + len(outcome.settings_removed),
            secrets=len(outcome.secrets_set) + len(outcome.secrets_removed),
            drift=sorted(outcome.drift),
        )
        if not more:
            return did
    return did


def _what(work: MaintenanceWork, outcome: MaintenanceOutcome) -> str:
    if outcome.removed:
        return "purged" if work.removal == "purge" else "archived"
    if outcome.missing:
        return "repo_missing"
    return "synced" if work.sync else "reconciled"


async def _round(
    state: WorkerState, converger: Converger, work: MaintenanceWork, outcome: MaintenanceOutcome
) -> None:
    if work.status == ProjectStatus.ARCHIVING:
        await converger.remove_repository(work, outcome)
        return
    if work.sync:
        values = {n: SecretStr(state.cipher.decrypt(c)) for n, c in work.pending_secrets.items()}
        await converger.apply_changes(work, outcome)
        await converger.push_secrets(work, values, outcome)
    if work.reconcile:
        await reconcile(converger, work, outcome)


async def _failed(
    state: WorkerState,
    work: MaintenanceWork,
    outcome: MaintenanceOutcome,
    exc: Exception,
    job_try: int,
) -> None:
    """Save what the round finished, let go of the lease and retry (or give up)."""
    failure = classify(exc)
    if failure.code == InternalError.code:
        _log.exception("maintenance.unexpected_error")
    if failure.code == DatabaseUnavailable.code:
        raise Retry(defer=timedelta(seconds=state.config.backoff_base_s)) from exc
    retry = failure.transient and (not failure.spends_attempt or job_try < MAX_TRIES)
    async with session_scope(state.sessionmaker) as session:
        await maintenance.finish(
            session,
            _unfinished(work),
            outcome,
            reconcile_interval_s=state.config.reconcile_interval_s,
            attempt=job_try,
        )
        await maintenance.release(
            session, work.project_id, code=failure.code, message=failure.message, will_retry=retry
        )
        if work.reconcile and not work.sync and not retry:
            await reconcile_schedule.give_up(
                session, work.project_id, reconcile_interval_s=state.config.reconcile_interval_s
            )
    if not retry:
        _log.error("maintenance.failed", code=failure.code, error=failure.message)
        return
    if not failure.spends_attempt:
        delay = max(0.5, failure.retry_after or 0.0)
    else:
        delay = retry_delay(
            job_try,
            base_s=state.config.backoff_base_s,
            cap_s=state.config.backoff_cap_s,
            at_least_s=failure.retry_after,
        )
    _log.warning(
        "maintenance.will_retry",
        code=failure.code,
        error=failure.message,
        retry_in_s=round(delay, 2),
    )
    raise Retry(defer=timedelta(seconds=delay))


def _unfinished(work: MaintenanceWork) -> MaintenanceWork:
    """The work as :func:`maintenance.finish` must see a failed round: no sync verdict."""
    return replace(work, sync=False)

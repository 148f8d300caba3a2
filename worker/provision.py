"""The provisioning job: one attempt at giving a project its repository.

arq retries only on :class:`arq.worker.Retry`, so this job classifies every
failure itself (:func:`shared.failures.classify`): a pause that is no failure
(waiting for the GitHub budget, a long job continuing) defers the job without
counting an attempt; transient failures schedule the next attempt with
backoff for up to ``WORKER_RETRY_FOR_S`` from the generation's first attempt;
permanent ones fail the project with a code and a sentence ops can act on.
Each step's outcome is saved as it happens (:mod:`worker.progress`), so an
attempt resumes where the last one stopped. GitHub is called outside any
database transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from arq.worker import Retry
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import session_scope
from shared.errors import DatabaseUnavailable, Failure, InternalError, TriesExhausted
from shared.failures import classify
from shared.github.repo_lifecycle import RepositoryLifecycleAPI
from shared.jobs import enqueue_maintenance, parse_job_id
from shared.projects import after_ready, lifecycle, repository, settings_rows
from shared.projects import progress as progress_rows
from shared.projects.models import Project, ProjectStatus, SyncState
from shared.projects.reconcile_schedule import next_reconcile_at
from shared.provisioning.errors import SecretsIncomplete, SecretsPurged
from shared.provisioning.settings.entries import desired_settings
from shared.provisioning.values import Progress, ProjectSpec, ProvisionResult, SecretOutcome
from worker.backoff import retry_delay
from worker.context import WorkerState, state_of
from worker.progress import DatabaseProgress, saved_progress

__all__ = ["JOB_TIME_SHARE", "provision_project"]

JOB_TIME_SHARE = 0.5
"""Share of ``job_timeout`` one job spends setting secrets before it continues in a fresh one."""

_log = structlog.get_logger(__name__)
_failure_code: ContextVar[str] = ContextVar("failure_code", default="")
"""The code of what ended this job run (each arq job runs in a task of its own)."""


async def provision_project(ctx: dict[str, Any], project_id: str) -> str:
    """Provision ``project_id`` for the generation named in the job id; returns what happened."""
    state = state_of(ctx)
    job_id: str = ctx["job_id"]
    job_try: int = ctx["job_try"]
    structlog.contextvars.bind_contextvars(project_id=project_id, job_id=job_id, attempt=job_try)
    started = time.monotonic()
    outcome, paused = "crashed", False
    _failure_code.set("")
    try:
        outcome = await _attempt(state, job_id, job_try, UUID(project_id))
        return outcome
    except _Paused:
        outcome, paused = "deferred", True
        raise
    except Retry:
        outcome = "retried"
        raise
    finally:
        if not paused:
            await _next_in_line(state, job_id)
        named = {"ready": "succeeded"}.get(outcome, outcome)
        state.metrics.job(named, time.monotonic() - started, _failure_code.get())
        structlog.contextvars.unbind_contextvars("project_id", "job_id", "attempt")


class _Paused(Retry):
    """A deferral that is no failure: the job keeps its dispatch slot while it waits."""


async def _next_in_line(state: WorkerState, job_id: str) -> None:
    """Free this run's dispatch slot; Redis trouble here is the lease's to mend."""
    try:
        await state.fair.finished(job_id)
    except Exception as exc:
        _log.warning("job.dispatch_failed", error=f"{type(exc).__name__}: {exc}")


async def _attempt(state: WorkerState, job_id: str, job_try: int, project_id: UUID) -> str:
    parsed = parse_job_id(job_id)
    generation = parsed[1] if parsed is not None else None
    started = time.monotonic()
    handed_over = False
    try:
        async with session_scope(state.sessionmaker) as session:
            project = None
            if generation is not None:
                project = await lifecycle.start_attempt(
                    session, project_id, generation, job_try=job_try, flush=False
                )
            if project is None:
                _log.info("job.nothing_to_do", generation=generation)
                return "skipped"
            structlog.contextvars.bind_contextvars(attempt=project.attempts)
            # An archive asked between attempts: this one never starts (none is cut short).
            handed_over = await after_ready.hand_over_removal(session, project)
            if not handed_over:
                with session.no_autoflush:  # the attempt's changes go out in one flush, below
                    stored = await progress_rows.secret_rows(session, project.id)
                if _retried_too_long(project, state.config.retry_for_s):
                    await _fail(session, project, _exhausted(project, state.config.retry_for_s))
                    return "failed"
                # Values are purged only from failed projects: a retried one runs in generation 2+.
                if project.generation > 1 and (purged := progress_rows.purged_names(stored)):
                    await _fail(session, project, SecretsPurged(purged).failure())
                    return "failed"
                spec, progress, ciphertexts = await _prepare(session, project, stored)
        if handed_over:
            await enqueue_maintenance(state.fair.queue, project_id)
            _log.info("job.archive_instead")
            return "archiving"
        if project.missing_reason == "archived":  # archived behind our back: adopt it again
            await _unarchive(state, project.repo_name)
        secrets = {n: SecretStr(state.cipher.decrypt(v)) for n, v in ciphertexts.items()}
        _log.info(
            "job.attempt_started", secrets=len(secrets), resumed=progress.repository is not None
        )
        sink = DatabaseProgress(state.sessionmaker, project_id, project.generation)
        try:
            result = await state.provisioner.provision(
                spec,
                secrets,
                progress=progress,
                sink=sink,
                deadline=started + state.config.job_timeout_s * JOB_TIME_SHARE,
            )
        except BaseException:
            await sink.settle()  # what was done is saved before the failure is handled
            raise
        await sink.drain()
    except Exception as exc:  # every failure is classified; a bug must not leave it hanging
        failure = classify(exc)
        if failure.code == InternalError.code:
            _log.exception("job.unexpected_error")
        outcomes = exc.outcomes if isinstance(exc, SecretsIncomplete) else None
        return await _handle_failure(state, job_id, project_id, failure, outcomes)
    return await _finish(state, project_id, result, spec.description)


async def _prepare(
    session: AsyncSession, project: Project, stored: list[progress_rows.SecretRow]
) -> tuple[ProjectSpec, Progress, dict[str, bytes]]:
    """What the attempt works from: the spec, what earlier attempts finished, the values."""
    asked_before = project.create_requested_at is not None
    await lifecycle.note_create_requested(session, project)
    await session.flush()
    spec = _spec_of(project, [s.name for s in stored])
    creates = (  # none can exist before the project's first create request
        await progress_rows.sent_creates(session, project.id, project.generation)
        if asked_before
        else ()
    )
    rows = await settings_rows.setting_rows(session, project.id) if spec.settings else {}
    progress = saved_progress(project, creates, rows)
    return spec, progress, progress_rows.pending_values(stored)


async def _unarchive(state: WorkerState, repo_name: str) -> None:
    org = (await state.github.installation()).account_login
    if await RepositoryLifecycleAPI(state.github).set_archived(org, repo_name, False):
        _log.info("job.repo_unarchived", repo=f"{org}/{repo_name}")


def _spec_of(project: Project, names: list[str]) -> ProjectSpec:
    return ProjectSpec(
        id=project.id,
        display_name=project.name,
        repo_name=project.repo_name,
        description=project.description,
        owner=project.owner,
        config=project.config,
        secret_names=names,
        repository=project.repository_settings or {},
        settings=desired_settings(project.repository_settings or {}),
    )


async def _finish(
    state: WorkerState, project_id: UUID, result: ProvisionResult, description: str | None
) -> str:
    installation = await state.github.installation()
    follow_up = False
    async with session_scope(state.sessionmaker) as session:
        project = await _locked_in_progress(session, project_id)
        if project is None:
            return "skipped"
        unsaved = {n: o for n, o in result.secrets.items() if o.state != "set"}
        if unsaved:  # each secret set was saved as it landed (drained before we got here)
            await repository.record_secret_outcomes(
                session, project.id, {n: (o.state, o.code, o.message) for n, o in unsaved.items()}
            )
        await lifecycle.mark_ready(
            session,
            project,
            repo=result.repository,
            installation_id=installation.id,
            description=description,
            reconcile_at=next_reconcile_at(datetime.now(UTC), state.config.reconcile_interval_s),
        )
        # A change or an archive asked while this job ran is the maintenance job's now.
        follow_up = await after_ready.hand_over_removal(session, project) or (
            project.sync_state == SyncState.PENDING
        )
    if follow_up:
        await enqueue_maintenance(state.fair.queue, project_id)
    _log.info(
        "job.ready",
        repo=result.repository.full_name,
        created=result.created,
        file_committed=result.file_committed,
    )
    return "ready"


async def _handle_failure(
    state: WorkerState,
    job_id: str,
    project_id: UUID,
    failure: Failure,
    outcomes: Mapping[str, SecretOutcome] | None,
) -> str:
    config = state.config
    if failure.code == DatabaseUnavailable.code:
        return _retry_unrecorded(failure, config.backoff_base_s)
    async with session_scope(state.sessionmaker) as session:
        project = await _locked_in_progress(session, project_id)
        if project is None:
            return "skipped"
        if outcomes is not None:
            await repository.record_secret_outcomes(
                session,
                project.id,
                {n: (o.state, o.code, o.message) for n, o in outcomes.items()},
            )
        archive = await after_ready.hand_over_removal(session, project)
        if archive:  # asked while this attempt ran: no retry, the repository is archived
            pass
        elif not failure.spends_attempt:
            delay = max(0.0, failure.retry_after or 0.0)
            until = datetime.now(UTC) + timedelta(seconds=delay)
            await lifecycle.record_deferral(
                session, project, code=failure.code, message=failure.message, until=until
            )
        elif not failure.transient:
            await _fail(session, project, failure)
            return "failed"
        elif _retried_too_long(project, config.retry_for_s):
            await _fail(session, project, _exhausted(project, config.retry_for_s, failure))
            return "failed"
        else:
            delay = retry_delay(
                project.attempts,
                base_s=config.backoff_base_s,
                cap_s=config.backoff_cap_s,
                at_least_s=failure.retry_after,
            )
            retry_at = datetime.now(UTC) + timedelta(seconds=delay)
            await lifecycle.record_transient_failure(
                session, project, code=failure.code, message=failure.message, retry_at=retry_at
            )
    if archive:
        await enqueue_maintenance(state.fair.queue, project_id)
        return "archiving"
    # Raised once the transaction has committed what happened.
    _failure_code.set(failure.code)
    if not failure.spends_attempt:
        _log.info("job.deferred", code=failure.code, reason=failure.message, defer_s=delay)
        await state.fair.hold(job_id, delay)
        raise _Paused(defer=timedelta(seconds=delay))
    _log.warning(
        "job.will_retry", code=failure.code, error=failure.message, retry_in_s=round(delay, 2)
    )
    raise Retry(defer=timedelta(seconds=delay))


async def _locked_in_progress(session: AsyncSession, project_id: UUID) -> Project | None:
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None or project.status != ProjectStatus.PROVISIONING:
        _log.warning("job.project_changed_underneath", status=getattr(project, "status", None))
        return None
    return project


def _retried_too_long(project: Project, retry_for_s: float) -> bool:
    """Whether this generation has been trying for longer than ``WORKER_RETRY_FOR_S``."""
    began = project.generation_started_at
    if not isinstance(began, datetime):  # now(), set by this very attempt: the first one
        return False
    return (datetime.now(UTC) - began).total_seconds() > retry_for_s


def _exhausted(project: Project, retry_for_s: float, last: Failure | None = None) -> Failure:
    code = last.code if last is not None else project.last_error_code
    text = last.message if last is not None else project.last_error_message
    cause = f": last error {code}: {text}" if code else ""
    return TriesExhausted(
        f"gave up after {project.attempts} attempts over {_duration(retry_for_s)}{cause}"
    ).failure()


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _retry_unrecorded(failure: Failure, base_s: float) -> str:
    """PostgreSQL is away: nothing can be recorded, so try again soon without a trace."""
    _log.warning("job.database_unavailable", error=failure.message)
    raise Retry(defer=timedelta(seconds=base_s))


async def _fail(session: AsyncSession, project: Project, failure: Failure) -> None:
    _failure_code.set(failure.code)
    await lifecycle.mark_failed(session, project, code=failure.code, message=failure.message)
    _log.error("job.failed", code=failure.code, error=failure.message)

"""The project status machine: each transition changes the row and writes one event.

Every function bumps ``version`` and ``updated_at``. Functions that take a
``project`` expect it loaded in this session with
``repository.get_project(..., for_update=True)``; none of them commits.

Errors (a branch of :class:`shared.errors.ProvisionerError`)::

    LifecycleError             lifecycle_refused
     ├── TransitionNotAllowed   transition_not_allowed   the status does not allow the step
     ├── RepoNameInUse          repo_name_claimed        another live project owns the name
     └── IdempotencyKeyTaken    idempotency_key_taken    the owner already used this key
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import ProvisionerError
from shared.projects import repository, settings_rows
from shared.projects.models import UNFINISHED_STATUSES, Project, ProjectStatus
from shared.projects.progress import PROGRESS_COLUMNS
from shared.projects.recreation import forget_applied

__all__ = [
    "IdempotencyKeyTaken",
    "LifecycleError",
    "RepoInfo",
    "RepoNameInUse",
    "TransitionNotAllowed",
    "accept",
    "mark_failed",
    "mark_ready",
    "note_create_requested",
    "note_requeued",
    "record_deferral",
    "record_transient_failure",
    "request_retry",
    "start_attempt",
]

_LIVE_REPO_NAME_INDEX = "uq_projects_live_repo_name"
_IDEMPOTENCY_CONSTRAINT = "uq_projects_owner_idempotency_key"


class LifecycleError(ProvisionerError):
    """A status transition was refused."""

    code = "lifecycle_refused"


class TransitionNotAllowed(LifecycleError):
    """The project's current ``status`` does not allow ``action``."""

    code = "transition_not_allowed"

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} a project in status {status}")
        self.status = status
        self.action = action


class RepoNameInUse(LifecycleError):
    """Another live project already owns ``repo_name`` (case-insensitively)."""

    code = "repo_name_claimed"

    def __init__(self, repo_name: str) -> None:
        super().__init__(f"repository name {repo_name!r} is used by another project")
        self.repo_name = repo_name


class IdempotencyKeyTaken(LifecycleError):
    """``owner`` already created a project with this idempotency key."""

    code = "idempotency_key_taken"

    def __init__(self, owner: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used by {owner!r}")
        self.owner = owner
        self.key = key


class RepoInfo(Protocol):
    """The repository GitHub answered with (``shared.github.models.Repository`` fits)."""

    @property
    def id(self) -> int: ...
    @property
    def owner(self) -> str: ...
    @property
    def full_name(self) -> str: ...
    @property
    def html_url(self) -> str: ...
    @property
    def clone_url(self) -> str: ...
    @property
    def default_branch(self) -> str: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _touch(project: Project) -> None:
    project.version = project.version + 1
    project.updated_at = func.now()  # fetched back on flush


def _require(project: Project, action: str, *allowed: str) -> None:
    if project.status not in allowed:
        raise TransitionNotAllowed(project.status, action)


def _violated_constraint(exc: IntegrityError) -> str | None:
    driver_error = getattr(exc.orig, "__cause__", None)
    name = getattr(driver_error, "constraint_name", None)
    return name if isinstance(name, str) else None


@asynccontextmanager
async def _claiming_repo_name(
    session: AsyncSession, repo_name: str, owner: str, key: str | None
) -> AsyncIterator[None]:
    """A savepoint whose unique violations become :class:`LifecycleError`s."""
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        constraint = _violated_constraint(exc)
        if constraint == _LIVE_REPO_NAME_INDEX:
            raise RepoNameInUse(repo_name) from None
        if constraint == _IDEMPOTENCY_CONSTRAINT and key is not None:
            raise IdempotencyKeyTaken(owner, key) from None
        raise


async def accept(
    session: AsyncSession,
    *,
    id: uuid.UUID,
    name: str,
    repo_name: str,
    description: str | None,
    config: Mapping[str, Any],
    owner: str,
    secrets_ciphertexts: Mapping[str, bytes],
    idempotency_key: str | None,
    request_fingerprint: str | None,
    repository_settings: Mapping[str, Any] | None = None,
    setting_keys: Sequence[str] = (),
) -> Project:
    """Store a new project as ``pending_repo`` with its encrypted secrets and its
    repository settings, each ``pending`` (event ``accepted``)."""
    async with _claiming_repo_name(session, repo_name, owner, idempotency_key):
        project = await repository.insert_project(
            session,
            id=id,
            name=name,
            repo_name=repo_name,
            description=description,
            config=config,
            owner=owner,
            idempotency_key=idempotency_key,
            request_fingerprint=request_fingerprint,
            repository_settings=dict(repository_settings or {}),
        )
    await repository.add_secrets(session, project.id, secrets_ciphertexts)
    await settings_rows.add_settings(session, project.id, setting_keys)
    await repository.add_event(
        session,
        project,
        "accepted",
        {"repo_name": repo_name, "secrets": sorted(secrets_ciphertexts)},
    )
    return project


async def start_attempt(
    session: AsyncSession,
    project_id: uuid.UUID,
    generation: int,
    *,
    job_try: int,
    flush: bool = True,
) -> Project | None:
    """Lock the project and start an attempt (status ``provisioning``).

    None, with nothing changed, when the job has nothing to do: the project is
    gone, finished (``ready``/``repo_failed``), or ``generation`` is stale.
    ``flush=False`` leaves the change to the session's next flush, for a caller that
    changes the project further first (one UPDATE, its events in one INSERT); until
    then ``generation_started_at`` may be the SQL ``now()`` of a first attempt.
    """
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None or project.status not in UNFINISHED_STATUSES:
        return None
    if project.generation != generation:
        return None
    project.status = ProjectStatus.PROVISIONING
    project.attempts = project.attempts + 1
    project.next_attempt_at = None
    project.wait_reason = None
    if project.generation_started_at is None:
        project.generation_started_at = func.now()
    _touch(project)
    await repository.add_event(
        session,
        project,
        "attempt_started",
        {"job_try": job_try},
        attempt=project.attempts,
        flush=flush,
    )
    return project


async def note_create_requested(session: AsyncSession, project: Project) -> None:
    """Remember when the create request was first sent (event ``create_requested``).

    Later calls change nothing: the first time is what the adoption check needs.
    """
    if project.create_requested_at is not None:
        return
    project.create_requested_at = func.now()
    _touch(project)
    await repository.add_event(session, project, "create_requested", attempt=project.attempts)


async def record_transient_failure(
    session: AsyncSession, project: Project, *, code: str, message: str, retry_at: datetime
) -> None:
    """A retryable GitHub error: stays ``provisioning``, next try at ``retry_at``."""
    _require(project, "record a transient failure for", ProjectStatus.PROVISIONING)
    project.last_error_code = code
    project.last_error_message = message
    project.next_attempt_at = retry_at
    _touch(project)
    await repository.add_event(
        session,
        project,
        "github_error",
        {"code": code, "message": message, "will_retry": True, "retry_at": retry_at.isoformat()},
        attempt=project.attempts,
    )


async def record_deferral(
    session: AsyncSession, project: Project, *, code: str, message: str, until: datetime
) -> None:
    """The job paused without failing (budget wait, continuation): its attempt is not
    counted, and ``wait_reason`` says why it waits until ``until`` (event ``deferred``)."""
    _require(project, "defer", ProjectStatus.PROVISIONING)
    project.attempts = max(0, project.attempts - 1)
    if project.generation_started_at is not None:  # waiting is no retrying: the window moves on
        project.generation_started_at = project.generation_started_at + (until - _now())
    project.next_attempt_at = until
    project.wait_reason = message
    _touch(project)
    await repository.add_event(
        session,
        project,
        "deferred",
        {"code": code, "message": message, "until": until.isoformat()},
        attempt=project.attempts,
    )


async def mark_ready(
    session: AsyncSession,
    project: Project,
    *,
    repo: RepoInfo,
    installation_id: int,
    description: str | None = None,
    reconcile_at: datetime | None = None,
) -> None:
    """The repository is done: status ``ready`` with its details (event ``ready``).

    ``description``: the one the repository got; ``reconcile_at``: its first drift check.
    """
    _require(project, "mark ready", ProjectStatus.PROVISIONING)
    project.status = ProjectStatus.READY
    project.applied_description = description
    project.reconcile_due_at = reconcile_at
    project.missing_reason = None
    project.repo_github_id = repo.id
    project.repo_owner = repo.owner
    project.repo_full_name = repo.full_name
    project.repo_html_url = repo.html_url
    project.repo_clone_url = repo.clone_url
    project.repo_default_branch = repo.default_branch
    project.installation_id = installation_id
    project.provisioned_at = func.now()
    project.last_error_code = None
    project.last_error_message = None
    project.next_attempt_at = None
    project.wait_reason = None
    _touch(project)
    await repository.add_event(
        session,
        project,
        "ready",
        {"repo_full_name": repo.full_name, "repo_html_url": repo.html_url},
        attempt=project.attempts,
    )


async def mark_failed(session: AsyncSession, project: Project, *, code: str, message: str) -> None:
    """A permanent error or tries exhausted: status ``repo_failed`` (event ``failed``)."""
    _require(project, "mark failed", *UNFINISHED_STATUSES)
    project.status = ProjectStatus.REPO_FAILED
    project.last_error_code = code
    project.last_error_message = message
    project.next_attempt_at = None
    project.wait_reason = None
    _touch(project)
    await repository.add_event(
        session, project, "failed", {"code": code, "message": message}, attempt=project.attempts
    )


async def request_retry(
    session: AsyncSession, project: Project, *, actor: str
) -> Literal["requeued", "reenqueue_only"]:
    """Ops asks for another try (event ``retry_requested``).

    ``repo_failed`` goes back to ``pending_repo`` in a new generation
    (``"requeued"``); an unfinished project keeps its status and only needs its
    job enqueued again (``"reenqueue_only"``); ``ready`` is refused.
    """
    if project.status in UNFINISHED_STATUSES:
        _touch(project)
        await repository.add_event(
            session, project, "retry_requested", {"actor": actor, "outcome": "reenqueue_only"}
        )
        return "reenqueue_only"
    _require(project, "retry", ProjectStatus.REPO_FAILED, ProjectStatus.REPO_MISSING)
    missing = project.status == ProjectStatus.REPO_MISSING
    if await repository.repo_name_in_use(session, project.repo_name, excluding=project.id):
        raise RepoNameInUse(project.repo_name)
    previous_error = project.last_error_code
    async with _claiming_repo_name(session, project.repo_name, project.owner, None):
        project.status = ProjectStatus.PENDING_REPO
        project.generation = project.generation + 1
        project.attempts = 0
        project.next_attempt_at = None
        project.last_error_code = None
        project.last_error_message = None
        project.wait_reason = None
        for column in PROGRESS_COLUMNS:  # the new generation starts from scratch
            setattr(project, column, None)
        _touch(project)
        await session.flush()
    if missing and project.missing_reason != "archived":  # made again: nothing is applied
        await forget_applied(session, project.id)
    else:  # the repository keeps what it has; refused settings get a new try
        await settings_rows.reset_failed_settings(session, project.id)
    await repository.add_event(
        session,
        project,
        "retry_requested",
        {"actor": actor, "outcome": "requeued", "previous_error_code": previous_error},
    )
    return "requeued"


async def note_requeued(
    session: AsyncSession, project: Project, *, by: Literal["sweeper", "ops"]
) -> None:
    """The project's job was enqueued again (event ``requeued_by_sweeper``/``requeued_by_ops``)."""
    _touch(project)
    await repository.add_event(session, project, f"requeued_by_{by}", attempt=project.attempts)

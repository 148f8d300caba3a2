"""What the projects endpoints do: create, show, list, history and retry.

Functions take the request's session and never commit (the caller owns the
transaction); jobs go to :class:`~shared.outbox.PendingJobs`, enqueued after the commit.

Idempotent create: a request with a client ``id`` or an ``Idempotency-Key``
stores an HMAC of its canonical body (secrets included, plaintext never
stored; keyed, so weak secrets cannot be guessed from it). The same id/key
with the same body answers the stored project again (202, same
``Location``); with a different body it is a 409.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Action, Principal, authorize
from shared.crypto import SecretsCipher
from shared.errors import RequestRejected
from shared.outbox import PendingJobs
from shared.projects import admission, lifecycle, repository, settings_rows
from shared.projects.cursors import (
    decode_event_cursor,
    decode_project_cursor,
    encode_event_cursor,
    encode_project_cursor,
)
from shared.projects.models import Project, ProjectStatus
from shared.projects.schemas import (
    EventOut,
    EventPage,
    ProjectCreate,
    ProjectOut,
    ProjectPage,
)
from shared.provisioning.repo_name import InvalidRepositoryName, repository_name
from shared.provisioning.secret_rules import check_secrets
from shared.provisioning.settings.entries import desired_settings
from shared.rate_limits import DEFAULT_LIMITS, AbuseLimits, RateLimiter

__all__ = [
    "MAX_CONFIG_BYTES",
    "ProjectResult",
    "canonical_request",
    "create_project",
    "etag",
    "get_project",
    "list_events",
    "list_projects",
    "project_not_found",
    "project_result",
    "retry_project",
    "visible_project",
]

MAX_CONFIG_BYTES = 64 * 1024

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ProjectResult:
    """A project's view and ETag; ``replayed`` when an idempotent create found it stored."""

    view: ProjectOut
    etag: str
    replayed: bool = False


def etag(project: Project) -> str:
    """The project's weak ETag: its id and row version."""
    return f'W/"{project.id}.{project.version}"'


@dataclass(frozen=True)
class Replay:
    """How to tell an idempotent create's replay: its canonical body, and the cipher whose
    keys (any of them, so key rotation keeps replays working) fingerprinted the original."""

    cipher: SecretsCipher
    canonical: bytes


def canonical_request(
    *,
    project_id: uuid.UUID | None,
    name: str,
    description: str | None,
    config: Mapping[str, Any],
    secrets: Mapping[str, str],
    repository_settings: Mapping[str, Any] | None = None,
) -> bytes:
    """A create request's canonical JSON (secrets moved out of config): what is fingerprinted."""
    document: dict[str, Any] = {
        "id": str(project_id) if project_id else None,
        "name": name,
        "description": description,
        "config": config,
        "secrets": secrets,
    }
    if repository_settings:  # absent before settings existed: old fingerprints still match
        document["repository"] = repository_settings
    return json.dumps(
        document,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


async def create_project(
    session: AsyncSession,
    jobs: PendingJobs,
    cipher: SecretsCipher,
    principal: Principal,
    body: ProjectCreate,
    *,
    idempotency_key: str | None,
    limiter: RateLimiter | None = None,
    limits: AbuseLimits = DEFAULT_LIMITS,
) -> ProjectResult:
    """Store a ``pending_repo`` project owned by the caller; its job is enqueued after commit.

    A replay is answered before the abuse limits (:mod:`shared.projects.admission`) count.
    """
    authorize(principal, Action.CREATE)
    repo_name = _repo_name(body.name)
    given = {name: value.get_secret_value() for name, value in (body.secrets or {}).items()}
    config, secrets = _split_secrets(body.config or {}, given)
    _check_config(config)
    _check_secrets(secrets)
    asked = body.repository.asked() if body.repository is not None else {}
    idempotent = body.id is not None or idempotency_key is not None
    canonical = canonical_request(
        project_id=body.id,
        name=body.name,
        description=body.description,
        config=config,
        secrets=secrets,
        repository_settings=asked,
    )
    same = Replay(cipher, canonical)
    if idempotent and (stored := await _stored(session, principal, body.id, idempotency_key, same)):
        return await project_result(session, stored, replayed=True)
    if await repository.repo_name_in_use(session, repo_name):
        raise _name_taken(repo_name)
    await admission.admit_create(session, limiter, limits, principal.subject)
    try:
        project = await lifecycle.accept(
            session,
            id=body.id or uuid.uuid4(),
            name=body.name,
            repo_name=repo_name,
            description=body.description,
            config=config,
            owner=principal.subject,
            secrets_ciphertexts={name: cipher.encrypt(value) for name, value in secrets.items()},
            idempotency_key=idempotency_key,
            request_fingerprint=cipher.fingerprint(canonical) if idempotent else None,
            repository_settings=asked,
            setting_keys=list(desired_settings(asked)),
        )
    except (lifecycle.LifecycleError, IntegrityError) as exc:
        # A concurrent request with the same id or key may have committed first.
        if idempotent and (
            stored := await _stored(session, principal, body.id, idempotency_key, same)
        ):
            return await project_result(session, stored, replayed=True)
        if isinstance(exc, lifecycle.RepoNameInUse):
            raise _name_taken(repo_name) from None
        raise
    structlog.contextvars.bind_contextvars(project_id=str(project.id))
    jobs.add(project.id, project.generation, project.owner)
    _log.info("project.accepted", repo_name=repo_name, secrets_count=len(secrets))
    # Just stored: each setting is pending, as a missing row reads, so none is read back.
    states = await repository.secret_states(session, project.id)
    return ProjectResult(ProjectOut.build(project, states), etag(project))


async def get_project(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> ProjectResult:
    """The project, if the caller may see it (404 otherwise)."""
    authorize(principal, Action.READ)
    return await project_result(session, await visible_project(session, principal, project_id))


async def list_projects(
    session: AsyncSession,
    principal: Principal,
    *,
    status: ProjectStatus | None,
    limit: int,
    cursor: str | None,
) -> ProjectPage:
    """The projects the caller may see, newest first, one page after ``cursor``."""
    authorize(principal, Action.READ)
    after = decode_project_cursor(cursor) if cursor else None
    page = await repository.list_projects(
        session,
        owners=principal.owner_filter(),
        status=str(status) if status else None,
        limit=limit,
        after=after,
    )
    ids = [p.id for p in page.items]
    states = await repository.secret_states_of(session, ids)
    settings = await settings_rows.setting_rows_of(session, ids)
    items = [ProjectOut.build(p, states[p.id], settings[p.id]) for p in page.items]
    next_cursor = encode_project_cursor(page.next_after) if page.next_after else None
    return ProjectPage(items=items, next_cursor=next_cursor)


async def list_events(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> EventPage:
    """The project's history, oldest first, one page after ``cursor``."""
    authorize(principal, Action.READ)
    await visible_project(session, principal, project_id)
    after_id = decode_event_cursor(cursor) if cursor else None
    events = await repository.list_events(session, project_id, limit=limit + 1, after_id=after_id)
    page = events[:limit]
    next_cursor = encode_event_cursor(page[-1].id) if len(events) > limit else None
    return EventPage(items=[EventOut.build(event) for event in page], next_cursor=next_cursor)


async def retry_project(
    session: AsyncSession, jobs: PendingJobs, principal: Principal, project_id: uuid.UUID
) -> ProjectResult:
    """Ops: a failed project goes back to ``pending_repo`` in a new generation; a stuck one
    is enqueued again; a ready one is a 409."""
    authorize(principal, Action.RETRY)
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None:
        raise project_not_found(project_id)
    structlog.contextvars.bind_contextvars(project_id=str(project.id))
    try:
        outcome = await lifecycle.request_retry(session, project, actor=principal.subject)
    except lifecycle.TransitionNotAllowed as exc:
        raise RequestRejected(
            409, "not_retryable", f"a project in status {exc.status} cannot be retried"
        ) from None
    except lifecycle.RepoNameInUse as exc:
        raise _name_taken(exc.repo_name) from None
    jobs.add(project.id, project.generation, project.owner)
    _log.info("project.retry_requested", outcome=outcome, generation=project.generation)
    return await project_result(session, project)


async def project_result(
    session: AsyncSession, project: Project, *, replayed: bool = False
) -> ProjectResult:
    """The view and ETag of ``project`` (no visibility check: the caller did it)."""
    states = await repository.secret_states(session, project.id)
    asked = desired_settings(project.repository_settings or {})
    settings = await settings_rows.setting_rows(session, project.id) if asked else {}
    return ProjectResult(ProjectOut.build(project, states, settings), etag(project), replayed)


async def visible_project(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID
) -> Project:
    project = await repository.get_project(session, project_id)
    if project is None or not principal.can_see(project):
        raise project_not_found(project_id)
    structlog.contextvars.bind_contextvars(project_id=str(project.id))
    return project


async def _stored(
    session: AsyncSession,
    principal: Principal,
    project_id: uuid.UUID | None,
    key: str | None,
    same: Replay,
) -> Project | None:
    """The project an earlier identical request created, None if there is none; 409 if the
    id or key was used for a different request."""
    field = "id" if project_id is not None else None
    stored = None
    if key is not None:
        stored = await repository.find_by_idempotency_key(session, principal.subject, key)
        if stored is not None and project_id is not None and stored.id != project_id:
            raise _reused(field)
    if stored is None and project_id is not None:
        stored = await repository.get_project(session, project_id)
        if stored is not None and stored.owner != principal.subject:
            raise RequestRejected(
                409, "id_in_use", "another project already has this id", field="id"
            )
    if stored is None:
        return None
    if not same.cipher.fingerprint_matches(same.canonical, stored.request_fingerprint):
        raise _reused(field)
    structlog.contextvars.bind_contextvars(project_id=str(stored.id))
    _log.info("project.create_replayed")
    return stored


def _reused(field: str | None) -> RequestRejected:
    what = "id" if field else "Idempotency-Key"
    return RequestRejected(
        409,
        "idempotency_conflict",
        f"this {what} was already used for a different request body; "
        "send the same body to get that project back, or use a new one",
        field=field,
    )


def _repo_name(name: str) -> str:
    try:
        return repository_name(name)
    except InvalidRepositoryName as exc:
        raise RequestRejected(422, "invalid_name", str(exc), field="name") from None


def _name_taken(repo_name: str) -> RequestRejected:
    return RequestRejected(
        409,
        "repo_name_in_use",
        f"another project already uses the repository name {repo_name!r}; choose another name",
        field="name",
    )


def project_not_found(project_id: uuid.UUID) -> RequestRejected:
    return RequestRejected(404, "not_found", f"no project {project_id}")


def _split_secrets(
    config: Mapping[str, Any], secrets: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Move ``config.secrets`` (how older clients send them) into ``secrets``."""
    rest = dict(config)
    nested = rest.pop("secrets", None)
    merged = dict(secrets)
    if nested is None:
        return rest, merged
    if not isinstance(nested, dict):
        raise RequestRejected(
            422,
            "validation_error",
            "config.secrets must be an object of NAME: value",
            field="config.secrets",
        )
    for name, value in nested.items():
        if not isinstance(value, str):
            raise RequestRejected(
                422, "validation_error", "secret values must be strings", f"config.secrets.{name}"
            )
        if name in merged:
            raise RequestRejected(
                422,
                "duplicate_secret",
                f"secret {name} is given both in secrets and in config.secrets",
                field=f"secrets.{name}",
            )
        merged[name] = value
    return rest, merged


def _check_config(config: Mapping[str, Any]) -> None:
    size = len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_CONFIG_BYTES:
        raise RequestRejected(
            422,
            "validation_error",
            f"config is {size} bytes as JSON; at most {MAX_CONFIG_BYTES} are allowed",
            field="config",
        )


def _check_secrets(secrets: Mapping[str, str]) -> None:
    problems = check_secrets(secrets)
    if problems:
        first = problems[0]
        field = f"secrets.{first.name}" if first.name is not None else "secrets"
        raise RequestRejected(422, "invalid_secret", first.message, field=field)

"""Changing a project after its creation: the service behind PATCH, the secrets
endpoints, DELETE and reconcile (the API validates bodies; this checks rights, ETags
and statuses, then :mod:`shared.projects.after_ready` changes the row)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Action, Principal, authorize
from shared.crypto import SecretsCipher
from shared.errors import RequestRejected
from shared.outbox import PendingJobs
from shared.projects import after_ready, repository
from shared.projects.lifecycle import TransitionNotAllowed
from shared.projects.models import Project
from shared.projects.service import (
    MAX_CONFIG_BYTES,
    ProjectResult,
    etag,
    project_not_found,
    project_result,
)
from shared.provisioning.secret_rules import check_secrets
from shared.provisioning.settings.entries import desired_settings

__all__ = [
    "ProjectChange",
    "archive_project",
    "merge_patch",
    "reconcile_project",
    "remove_secret",
    "set_secret",
    "update_project",
]

_log = structlog.get_logger(__name__)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``patch`` applied to ``target`` (``null`` removes a key, objects merge,
    anything else replaces)."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


class ProjectChange:
    """A validated change: the project's new description, config and repository settings."""

    def __init__(
        self, *, description: str | None, config: Mapping[str, Any], repository: Mapping[str, Any]
    ) -> None:
        self.description = description
        self.config = dict(config)
        self.repository = dict(repository)


def _weak_equal(header: str, tag: str) -> bool:
    opaque = tag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") == opaque for t in header.split(",")) or (
        header.strip() == "*"
    )


async def _locked(
    session: AsyncSession, principal: Principal, project_id: uuid.UUID, action: Action
) -> Project:
    authorize(principal, action)
    project = await repository.get_project(session, project_id, for_update=True)
    if project is None or not principal.can_see(project):
        raise project_not_found(project_id)
    structlog.contextvars.bind_contextvars(project_id=str(project.id))
    return project


def _not_changeable(exc: TransitionNotAllowed) -> RequestRejected:
    return RequestRejected(
        409, "not_changeable", f"a project in status {exc.status} cannot be changed that way"
    )


def check_if_match(project: Project, if_match: str | None) -> None:
    """428 without ``If-Match``, 412 when it names another version of the project."""
    if not if_match:
        raise RequestRejected(
            428, "precondition_required", "send If-Match with the ETag of the project you read"
        )
    if not _weak_equal(if_match, etag(project)):
        raise RequestRejected(
            412, "precondition_failed", "the project changed since that ETag; read it again"
        )


async def update_project(
    session: AsyncSession,
    jobs: PendingJobs,
    principal: Principal,
    project_id: uuid.UUID,
    patch: Mapping[str, Any],
    build: Any,
    *,
    if_match: str | None,
) -> ProjectResult:
    """Apply a merge-patch to the project (``build(merged) -> ProjectChange`` validates it)."""
    project = await _locked(session, principal, project_id, Action.CHANGE)
    check_if_match(project, if_match)
    current: dict[str, Any] = {
        "description": project.description,
        "config": project.config or {},
        "repository": project.repository_settings or {},
    }
    merged = merge_patch(current, dict(patch))
    change: ProjectChange = build(merged)
    if change.repository.get("template") != current["repository"].get("template"):
        raise RequestRejected(
            422,
            "validation_error",
            "a template only applies when the repository is created",
            field="repository.template",
        )
    size = len(json.dumps(change.config, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_CONFIG_BYTES:
        raise RequestRejected(
            422,
            "validation_error",
            f"config is {size} bytes as JSON; at most {MAX_CONFIG_BYTES} are allowed",
            field="config",
        )
    new = {
        "description": change.description,
        "config": change.config,
        "repository": change.repository,
    }
    changed = [key for key in new if new[key] != current[key]]
    if not changed:
        return await project_result(session, project)
    try:
        enqueue = await after_ready.request_update(
            session,
            project,
            description=change.description,
            config=change.config,
            repository_settings=change.repository,
            setting_keys=list(desired_settings(change.repository)),
            changed=changed,
            actor=principal.subject,
        )
    except TransitionNotAllowed as exc:
        raise _not_changeable(exc) from None
    if enqueue:
        jobs.add_maintenance(project.id)
    _log.info("project.update_requested", changed=changed, sync=project.sync_generation)
    return await project_result(session, project)


async def set_secret(
    session: AsyncSession,
    jobs: PendingJobs,
    cipher: SecretsCipher,
    principal: Principal,
    project_id: uuid.UUID,
    name: str,
    value: str,
) -> ProjectResult:
    """Set or rotate one secret; GitHub gets it from the worker."""
    problems = check_secrets({name: value})
    if problems:
        first = problems[0]
        raise RequestRejected(
            422, "invalid_secret", first.message, field="value" if first.name is None else "name"
        )
    project = await _locked(session, principal, project_id, Action.CHANGE)
    try:
        enqueue = await after_ready.request_secret_set(
            session, project, name, cipher.encrypt(value), actor=principal.subject
        )
    except TransitionNotAllowed as exc:
        raise _not_changeable(exc) from None
    if enqueue:
        jobs.add_maintenance(project.id)
    _log.info("project.secret_set_requested", secret=name)
    return await project_result(session, project)


async def remove_secret(
    session: AsyncSession,
    jobs: PendingJobs,
    principal: Principal,
    project_id: uuid.UUID,
    name: str,
) -> ProjectResult:
    """Remove one secret from the project and from GitHub."""
    project = await _locked(session, principal, project_id, Action.CHANGE)
    try:
        enqueue = await after_ready.request_secret_removal(
            session, project, name, actor=principal.subject
        )
    except TransitionNotAllowed as exc:
        raise _not_changeable(exc) from None
    if enqueue is None:
        raise RequestRejected(404, "secret_not_found", f"the project has no secret {name}")
    if enqueue:
        jobs.add_maintenance(project.id)
    _log.info("project.secret_removal_requested", secret=name)
    return await project_result(session, project)


async def archive_project(
    session: AsyncSession,
    jobs: PendingJobs,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    purge: bool,
) -> ProjectResult:
    """Archive the project's repository (``purge``, ops only: delete it)."""
    if purge:
        authorize(principal, Action.PURGE)
    project = await _locked(session, principal, project_id, Action.CHANGE)
    if await after_ready.request_removal(session, project, purge=purge, actor=principal.subject):
        jobs.add_maintenance(project.id)
    _log.info("project.archive_requested", purge=purge, status=project.status)
    return await project_result(session, project)


async def reconcile_project(
    session: AsyncSession, jobs: PendingJobs, principal: Principal, project_id: uuid.UUID
) -> ProjectResult:
    """Ops: compare the repository with the project now and restore what drifted."""
    project = await _locked(session, principal, project_id, Action.RECONCILE)
    try:
        await after_ready.request_reconcile(session, project, actor=principal.subject)
    except TransitionNotAllowed as exc:
        raise RequestRejected(
            409, "not_changeable", f"a project in status {exc.status} has nothing to reconcile"
        ) from None
    jobs.add_maintenance(project.id)
    return await project_result(session, project)

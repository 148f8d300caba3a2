"""Changing a project after creation: PATCH, secrets, DELETE (archive) and reconcile."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from api.body_checks import CheckedJsonRoute
from api.deps import CipherDep, JobsDep, JsonBodyDep, PrincipalDep, SessionDep
from api.errors import error_responses
from shared.errors import RequestRejected
from shared.projects import changes
from shared.projects.schemas import MAX_DESCRIPTION_LENGTH, ProjectOut
from shared.projects.service import ProjectResult
from shared.provisioning.settings.spec import RepositorySettings

__all__ = ["router"]

router = APIRouter(prefix="/api/projects", tags=["projects"], route_class=CheckedJsonRoute)

_PATCHABLE = ("description", "config", "repository")
SecretName = Annotated[str, Path(min_length=1, max_length=200)]


class SecretValue(BaseModel):
    """``PUT /api/projects/{id}/secrets/{NAME}``: the new value (never shown back)."""

    model_config = ConfigDict(extra="forbid")

    value: SecretStr = Field(description="The secret's value; stored encrypted until pushed.")


class _Description(BaseModel):
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)


def _invalid(error: ValidationError, *prefix: str) -> RequestValidationError:
    return RequestValidationError(
        [{**e, "loc": ("body", *prefix, *e["loc"]), "input": None} for e in error.errors()]
    )


def _change(merged: dict[str, Any]) -> changes.ProjectChange:
    """The merged project, validated as a create would be (422 naming the field)."""
    config = merged.get("config") or {}
    if not isinstance(config, dict):
        raise RequestRejected(422, "validation_error", "config must be an object", "config")
    if "secrets" in config:
        raise RequestRejected(
            422,
            "validation_error",
            "secrets change with PUT /api/projects/{id}/secrets/{NAME}",
            field="config.secrets",
        )
    try:
        description = _Description.model_validate(
            {"description": merged.get("description")}
        ).description
    except ValidationError as exc:
        raise _invalid(exc) from None
    try:
        repository = RepositorySettings.model_validate(merged.get("repository") or {})
    except ValidationError as exc:
        raise _invalid(exc, "repository") from None
    return changes.ProjectChange(
        description=description, config=config, repository=repository.asked()
    )


def _answer(response: Response, result: ProjectResult) -> ProjectOut:
    response.headers["ETag"] = result.etag
    return result.view


@router.patch(
    "/{project_id}",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 500),
    summary="Change a project (JSON merge-patch); it stays ready while GitHub converges",
)
async def update_project(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    _json: JsonBodyDep,
    session: SessionDep,
    jobs: JobsDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="RFC 7396 merge-patch of `description`, `config`, `repository`; "
            "`null` removes a key.",
            media_type="application/merge-patch+json",
        ),
    ],
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="The ETag of the project as read.")
    ] = None,
) -> ProjectOut:
    """202 with the project and its ``sync``; 428 without ``If-Match``, 412 when stale."""
    for key in body:
        if key not in _PATCHABLE:
            raise RequestRejected(
                422,
                "validation_error",
                f"{key} cannot be changed; a change may hold {', '.join(_PATCHABLE)}",
                field=key,
            )
    result = await changes.update_project(
        session, jobs, principal, project_id, body, _change, if_match=if_match
    )
    return _answer(response, result)


@router.put(
    "/{project_id}/secrets/{name}",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 500),
    summary="Set or rotate one Actions secret",
)
async def set_secret(
    project_id: uuid.UUID,
    name: SecretName,
    response: Response,
    principal: PrincipalDep,
    _json: JsonBodyDep,
    session: SessionDep,
    jobs: JobsDep,
    cipher: CipherDep,
    body: SecretValue,
) -> ProjectOut:
    """202: the value is stored encrypted and pushed by the worker, then wiped."""
    result = await changes.set_secret(
        session, jobs, cipher, principal, project_id, name, body.value.get_secret_value()
    )
    return _answer(response, result)


@router.delete(
    "/{project_id}/secrets/{name}",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 409, 422, 500),
    summary="Remove one Actions secret from the project and from GitHub",
)
async def remove_secret(
    project_id: uuid.UUID,
    name: SecretName,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    jobs: JobsDep,
) -> ProjectOut:
    """202 with the secret ``removing`` until GitHub no longer has it."""
    result = await changes.remove_secret(session, jobs, principal, project_id, name)
    return _answer(response, result)


@router.delete(
    "/{project_id}",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 422, 500),
    summary="Archive the project's repository (ops: ?purge=true deletes it)",
)
async def archive_project(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    jobs: JobsDep,
    purge: Annotated[bool, Query(description="Delete the repository instead (ops).")] = False,
) -> ProjectOut:
    """202: ``archiving``, then ``archived`` (or ``deleted``); stored secret values are wiped."""
    result = await changes.archive_project(session, jobs, principal, project_id, purge=purge)
    return _answer(response, result)


@router.post(
    "/{project_id}/reconcile",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 409, 422, 500),
    summary="Ops: check the repository for drift now and restore it",
)
async def reconcile_project(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    jobs: JobsDep,
) -> ProjectOut:
    """202; drift corrections appear as ``drift_corrected`` events."""
    result = await changes.reconcile_project(session, jobs, principal, project_id)
    return _answer(response, result)

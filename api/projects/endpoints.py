"""``/api/projects``: thin endpoints over :mod:`shared.projects.service`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from api.body_checks import CheckedJsonRoute
from api.conditional import if_none_match_matches
from api.deps import (
    CipherDep,
    JobsDep,
    JsonBodyDep,
    PrincipalDep,
    PrincipalRecheckDep,
    ResourcesDep,
    SessionDep,
)
from api.errors import error_responses
from api.projects.waiting import MAX_WAIT_S, wait_for_change
from shared.projects import repo_tokens, service
from shared.projects.models import ProjectStatus
from shared.projects.schemas import EventPage, ProjectCreate, ProjectOut, ProjectPage, RepoTokenOut

__all__ = ["router"]

router = APIRouter(prefix="/api/projects", tags=["projects"], route_class=CheckedJsonRoute)

_READ_ERRORS = error_responses(400, 401, 403, 404, 422, 500)
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the `If-None-Match` ETag is current"}
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Sending the same key with the same body again returns the same project.",
    ),
]


def _location(project_id: uuid.UUID) -> str:
    return f"{router.prefix}/{project_id}"


@router.post(
    "/",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429, 500),
    summary="Create a project; its repository is made in the background",
)
async def create_project(
    response: Response,
    principal: PrincipalDep,
    _json: JsonBodyDep,
    session: SessionDep,
    jobs: JobsDep,
    cipher: CipherDep,
    resources: ResourcesDep,
    body: ProjectCreate,
    idempotency_key: IdempotencyKey = None,
) -> ProjectOut:
    """202 with ``Location`` and the project in ``pending_repo``; a replay answers the same."""
    result = await service.create_project(
        session,
        jobs,
        cipher,
        principal,
        body,
        idempotency_key=idempotency_key,
        limiter=resources.limiter,
        limits=resources.limits,
    )
    response.headers["Location"] = _location(result.view.id)
    response.headers["ETag"] = result.etag
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result.view


router.add_api_route(
    "",
    create_project,
    methods=["POST"],
    status_code=202,
    response_model=ProjectOut,
    include_in_schema=False,
    name="create_project_no_slash",
)


@router.get(
    "",
    response_model=ProjectPage,
    responses=error_responses(400, 401, 403, 422, 500),
    summary="List projects, newest first",
)
async def list_projects(
    principal: PrincipalDep,
    session: SessionDep,
    status: ProjectStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ProjectPage:
    """Owners see their own projects; ``ops`` and ``service`` see all."""
    return await service.list_projects(
        session, principal, status=status, limit=limit, cursor=cursor
    )


router.add_api_route(
    "/",
    list_projects,
    methods=["GET"],
    response_model=ProjectPage,
    include_in_schema=False,
    name="list_projects_slash",
)


@router.get(
    "/{project_id}",
    response_model=ProjectOut,
    responses=_NOT_MODIFIED | _READ_ERRORS | error_responses(503),
    summary="Show a project",
)
async def get_project(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    recheck: PrincipalRecheckDep,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
    wait: Annotated[
        float | None,
        Query(
            ge=0,
            le=MAX_WAIT_S,
            description="Long poll: answer as soon as the project changes (from `If-None-Match`,"
            " or from now), or after this many seconds (at most 60).",
        ),
    ] = None,
) -> ProjectOut | Response:
    """The project with an ``ETag``; 304 without a body when ``If-None-Match`` is current."""
    if wait:
        with resources.long_polls.slot(resources.limits.max_long_polls):
            result = await wait_for_change(
                session,
                resources.sessionmaker,
                resources.changes,
                principal,
                project_id,
                if_none_match=if_none_match,
                wait_s=wait,
                recheck=recheck,
            )
    else:
        result = await service.get_project(session, principal, project_id)
    if if_none_match_matches(if_none_match, result.etag):
        return Response(status_code=304, headers={"ETag": result.etag})
    response.headers["ETag"] = result.etag
    return result.view


@router.get(
    "/{project_id}/events",
    response_model=EventPage,
    responses=_READ_ERRORS,
    summary="A project's history, oldest first",
)
async def list_project_events(
    project_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> EventPage:
    """What happened to the project: accepted, attempts, GitHub errors, retries, ready."""
    return await service.list_events(session, principal, project_id, limit=limit, cursor=cursor)


@router.post(
    "/{project_id}/token",
    status_code=201,
    response_model=RepoTokenOut,
    responses=error_responses(400, 401, 403, 404, 409, 422, 429, 500, 502, 503),
    summary="A GitHub token for this project's repository only",
)
async def mint_repo_token(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> RepoTokenOut:
    """The owner or a ``service`` token gets a fresh installation token narrowed to the
    project's repository and the configured permissions (1 hour at most)."""
    response.headers["Cache-Control"] = "no-store"
    return await repo_tokens.mint_repo_token(
        session,
        resources.tokens,
        principal,
        project_id,
        limiter=resources.limiter,
        limits=resources.limits,
    )


@router.post(
    "/{project_id}/retry",
    status_code=202,
    response_model=ProjectOut,
    responses=error_responses(400, 401, 403, 404, 409, 422, 500),
    summary="Ops: provision a failed or stuck project again",
)
async def retry_project(
    project_id: uuid.UUID,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    jobs: JobsDep,
) -> ProjectOut:
    """``repo_failed`` → ``pending_repo`` (next generation); a stuck one is re-enqueued."""
    result = await service.retry_project(session, jobs, principal, project_id)
    response.headers["Location"] = _location(project_id)
    response.headers["ETag"] = result.etag
    return result.view

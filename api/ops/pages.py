"""The console's pages (GET): overview, failures, search, a project, confirmations, sign-in."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Resources, ResourcesDep, SessionDep
from api.ops import views
from api.ops.auth import Operator, OperatorDep, session_store
from api.ops.render import page, redirect
from api.ops.sessions import LOGIN_COOKIE, SESSION_COOKIE
from shared.ops import repository as ops_repository
from shared.ops.service import RETRY_ALL_LIMIT
from shared.projects.models import STATUSES

__all__ = ["LOGIN_FORM_TTL_S", "NOTICES", "context", "router"]

router = APIRouter(prefix="/ops", include_in_schema=False)

LOGIN_FORM_TTL_S = 600
NOTICES = {
    "retried": "Retry requested: the project is pending again and its job is queued.",
    "group_retried": "Retry requested for the group's projects.",
    "reconcile_requested": "Drift check requested: corrections appear in the history.",
    "archive_requested": "Archive requested: the repository is archived in a moment.",
    "purge_requested": "Purge requested: the repository is deleted in a moment.",
    "signed_out": "You are signed out.",
}
"""What a ``?notice=`` after a redirect says (anything else says nothing)."""


def context(
    request: Request, resources: Resources, operator: Operator | None, **values: Any
) -> dict[str, Any]:
    """What every page's template gets: who is signed in, the CSRF token, the live version."""
    changes = resources.changes
    notice = NOTICES.get(request.query_params.get("notice", ""))
    if values.get("notice") is None:
        values["notice"] = notice
    return {
        "operator": operator,
        "csrf": operator.csrf if operator else None,
        "live_version": changes.fleet_version if changes is not None else None,
        "path": request.url.path,
        "self_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **values,
    }


@router.get("")
async def overview_page(
    request: Request, operator: OperatorDep, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Projects by status and per hour, the GitHub budget, the queue, the workers."""
    data = await views.overview(session, resources)
    return page(request, "overview.html", context(request, resources, operator, o=data))


@router.get("/failed")
async def failed_page(
    request: Request, operator: OperatorDep, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Failed projects grouped by error code; one page of them (``?code=`` narrows)."""
    code = request.query_params.get("code") or None
    cursor = request.query_params.get("cursor") or None
    data = await views.failed_view(session, code=code, cursor=cursor)
    return page(request, "failed.html", context(request, resources, operator, f=data))


@router.get("/failed/retry-all")
async def confirm_retry_all(
    request: Request, operator: OperatorDep, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Asks before retrying every failed project of one error code."""
    code = request.query_params.get("code") or ""
    groups = {g.code: g for g in await ops_repository.failed_groups(session)}
    group = groups.get(code)
    values = context(request, resources, operator, group=group, code=code, limit=RETRY_ALL_LIMIT)
    return page(request, "confirm.html", values, status=200 if group else 404)


@router.get("/projects")
async def projects_page(
    request: Request, operator: OperatorDep, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Search by name, id or owner (``?q=``), narrowed by ``?status=``; newest first."""
    query = (request.query_params.get("q") or "").strip()
    status = request.query_params.get("status") or None
    cursor = request.query_params.get("cursor") or None
    found = await views.find_view(session, query=query, status=status, cursor=cursor)
    values = context(
        request, resources, operator, found=found, q=query, status=status, statuses=STATUSES
    )
    return page(request, "projects.html", values)


@router.get("/projects/{project_id}")
async def project_page(
    project_id: str,
    request: Request,
    operator: OperatorDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> Response:
    """One project: its fields, repository, secrets and settings, history, retry."""
    data = await views.project_view(session, views.project_id_from(project_id))
    return page(request, "project.html", context(request, resources, operator, p=data))


@router.get("/projects/{project_id}/archive")
async def confirm_archive(
    project_id: str,
    request: Request,
    operator: OperatorDep,
    session: SessionDep,
    resources: ResourcesDep,
) -> Response:
    """Asks before archiving (``?purge=true``: deleting) a project's repository."""
    data = await views.project_view(session, views.project_id_from(project_id))
    purge = request.query_params.get("purge") == "true"
    values = context(request, resources, operator, p=data, purge=purge)
    return page(request, "confirm_archive.html", values)


@router.get("/login")
async def login_page(request: Request, resources: ResourcesDep) -> Response:
    """The sign-in form (an ops token); straight to the overview when signed in already."""
    store = session_store(resources)
    if await store.get(request.cookies.get(SESSION_COOKIE)) is not None:
        return redirect("/ops")
    form_csrf = secrets.token_urlsafe(32)
    values = context(request, resources, None, form_csrf=form_csrf, next=_next(request))
    response = page(request, "login.html", values)
    response.set_cookie(
        LOGIN_COOKIE,
        form_csrf,
        max_age=LOGIN_FORM_TTL_S,
        path="/ops",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


def _next(request: Request) -> str:
    wanted = request.query_params.get("next") or "/ops"
    return safe_next(wanted)


def safe_next(wanted: str) -> str:
    """Where to go after sign-in: a console path only (never another site)."""
    if wanted.startswith("/ops") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted
    return "/ops"

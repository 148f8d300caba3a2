"""The console's forms (POST): sign in and out, retry, reconcile or archive a project,
retry a group.

Retries go through :mod:`shared.projects.service` (one project, the API's
retry) and :mod:`shared.ops.service` (a group), in the request's unit of work:
jobs are enqueued after the commit (``JobsDep``). Each answers 303 to the page
to show next; htmx follows it and swaps the page's live part in place.
"""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import JobsDep, ResourcesDep, SessionDep, look_up_principal
from api.ops import views
from api.ops.auth import FormDep, OperatorDep, PageError, read_form, session_store
from api.ops.pages import context, safe_next
from api.ops.render import page, redirect
from api.ops.sessions import LOGIN_COOKIE, SESSION_COOKIE, csrf_matches
from shared.auth.models import TokenRole
from shared.crypto import hash_api_token
from shared.errors import RequestRejected
from shared.ops.service import retry_failed_group
from shared.projects import changes, service

__all__ = ["router"]

router = APIRouter(prefix="/ops", include_in_schema=False)
_log = structlog.get_logger(__name__)


@router.post("/login")
async def sign_in(request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    """Exchange an ``ops`` token for a session cookie; any other token is refused."""
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(LOGIN_COOKIE) or "", form.get("csrf") or ""):
        raise PageError(403, "Refused", "the sign-in form expired: load it again")
    token = (form.get("token") or "").strip()
    target = safe_next(form.get("next") or "/ops")

    def refused(status: int, message: str) -> Response:
        values = context(
            request, resources, None, form_csrf=form["csrf"], next=target, error=message
        )
        return page(request, "login.html", values, status=status)

    if not token:
        return refused(422, "Enter an ops token.")
    token_hash = hash_api_token(token)
    try:
        principal = await look_up_principal(
            session, resources.principals, token_hash, resources.unknown_tokens
        )
    except RequestRejected:
        _log.info("ops.sign_in_refused", reason="unknown_token")
        return refused(401, "That token is unknown, revoked or expired.")
    if principal.role != TokenRole.OPS:
        _log.info("ops.sign_in_refused", reason="not_ops", role=str(principal.role))
        return refused(403, f"A {principal.role} token cannot sign in: use an ops token.")
    store = session_store(resources)
    session_id, _ = await store.create(token_hash=token_hash, subject=principal.subject)
    _log.info("ops.signed_in", subject=principal.subject)
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=store.ttl_s,
        path="/ops",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/ops")
    return response


@router.post("/logout")
async def sign_out(operator: OperatorDep, _form: FormDep, resources: ResourcesDep) -> Response:
    """End the session."""
    await session_store(resources).delete(operator.session_id)
    _log.info("ops.signed_out", subject=operator.subject)
    response = redirect("/ops/login?notice=signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/ops")
    return response


@router.post("/projects/{project_id}/retry")
async def retry_one(
    project_id: str,
    operator: OperatorDep,
    form: FormDep,
    session: SessionDep,
    jobs: JobsDep,
) -> Response:
    """Retry one project (what ``POST /api/projects/{id}/retry`` does)."""
    pid = views.project_id_from(project_id)
    try:
        await service.retry_project(session, jobs, operator.principal, pid)
    except RequestRejected as exc:
        raise PageError(exc.status, "Not retried", exc.message) from None
    back = form.get("back") or f"/ops/projects/{pid}"
    return redirect(_with_notice(safe_next(back), "retried"))


@router.post("/projects/{project_id}/reconcile")
async def reconcile_one(
    project_id: str, operator: OperatorDep, _form: FormDep, session: SessionDep, jobs: JobsDep
) -> Response:
    """Check the repository for drift now (what ``POST /api/projects/{id}/reconcile`` does)."""
    pid = views.project_id_from(project_id)
    try:
        await changes.reconcile_project(session, jobs, operator.principal, pid)
    except RequestRejected as exc:
        raise PageError(exc.status, "Not reconciled", exc.message) from None
    return redirect(_with_notice(f"/ops/projects/{pid}", "reconcile_requested"))


@router.post("/projects/{project_id}/archive")
async def archive_one(
    project_id: str, operator: OperatorDep, form: FormDep, session: SessionDep, jobs: JobsDep
) -> Response:
    """Archive the repository, or delete it with ``purge`` (after the confirmation page)."""
    pid = views.project_id_from(project_id)
    purge = form.get("purge") == "true"
    try:
        await changes.archive_project(session, jobs, operator.principal, pid, purge=purge)
    except RequestRejected as exc:
        raise PageError(exc.status, "Not archived", exc.message) from None
    return redirect(
        _with_notice(f"/ops/projects/{pid}", "purge_requested" if purge else "archive_requested")
    )


@router.post("/failed/retry-all")
async def retry_group(
    operator: OperatorDep, form: FormDep, session: SessionDep, jobs: JobsDep
) -> Response:
    """Retry every failed project of one error code (after the confirmation page)."""
    code = form.get("code") or ""
    if not code:
        raise PageError(422, "No group", "say which error code to retry")
    outcome = await retry_failed_group(session, jobs, operator.principal, code)
    query = {
        "notice": "group_retried",
        "retried": str(len(outcome.retried)),
        "refused": str(len(outcome.refused)),
    }
    return redirect("/ops/failed?" + urlencode(query))


def _with_notice(url: str, notice: str) -> str:
    base, _, query = url.partition("?")
    kept = "&".join(p for p in query.split("&") if p and not p.startswith("notice="))
    return f"{base}?{kept + '&' if kept else ''}notice={notice}"

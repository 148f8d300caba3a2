"""Mounting the console on the API app: its routes, static files and error pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from api.ops import actions, live, pages
from api.ops.auth import NotSignedIn, PageError
from api.ops.render import STATIC_DIR, page, redirect

__all__ = ["install_ops_console"]


def _wants_fragment(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" or request.url.path == "/ops/live"


async def _not_signed_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotSignedIn)
    target = f"/ops/login?next={request.url.path}" if request.method == "GET" else "/ops/login"
    if _wants_fragment(request):  # htmx navigates the whole page there
        return JSONResponse(
            {"error": "not_authenticated", "detail": exc.reason},
            status_code=401,
            headers={"HX-Redirect": target},
        )
    return redirect(target)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    values = {"operator": None, "title": exc.title, "message": exc.message, "status": exc.status}
    return page(request, "message.html", values, status=exc.status)


def install_ops_console(app: FastAPI) -> None:
    """Serve the console under ``/ops`` (the app's resources must carry ``ops``)."""
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(live.router)
    app.mount("/ops/static", StaticFiles(directory=STATIC_DIR), name="ops-static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(PageError, _page_error)

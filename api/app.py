"""The FastAPI app. :func:`create_app` wires routes and error handlers; it builds nothing.

The resources it serves with come from ``open_resources``, entered by the
lifespan and left at shutdown: the composition root (``cli/``) passes one that
builds them from the settings, tests pass one that yields their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import budget, health, metrics, webhooks
from api.body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from api.deps import Resources
from api.errors import install_error_handlers
from api.projects import changes as project_changes
from api.projects import endpoints as projects
from api.request_context import RequestContextMiddleware

__all__ = ["create_app"]


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    open_resources: Callable[[], AbstractAsyncContextManager[Resources]],
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ops_console: bool = False,
) -> FastAPI:
    """The API app, serving with what ``open_resources()`` yields for the app's life.

    Request bodies over ``max_body_bytes`` are refused (413) while they are read.
    ``ops_console`` serves the console at ``/ops`` (its resources then carry ``ops``).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources() as resources:
            app.state.resources = resources
            try:
                yield
            finally:
                del app.state.resources

    app = FastAPI(
        title="provisioner",
        summary="Turns 'create a project' into a ready GitHub repository.",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)  # inside the next
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(projects.router)
    app.include_router(project_changes.router)
    app.include_router(webhooks.router)
    app.include_router(budget.router)
    if ops_console:
        from api.ops.routes import install_ops_console  # Jinja2 and templates only when on

        install_ops_console(app)
    return app

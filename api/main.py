"""The FastAPI app: :func:`create_app` builds it, :func:`run` serves it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from arq.connections import ArqRedis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import health
from api.deps import Resources
from api.errors import install_error_handlers
from api.projects import routes as projects
from api.request_context import RequestContextMiddleware
from shared.crypto import SecretsCipher, load_secrets_cipher
from shared.db.engine import create_engine, create_sessionmaker
from shared.jobs import QueueSettings, open_queue

__all__ = ["create_app", "run"]


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    queue: ArqRedis | None = None,
    cipher: SecretsCipher | None = None,
    queue_settings: QueueSettings | None = None,
) -> FastAPI:
    """The API app. What is not injected the lifespan builds from the environment
    (``DATABASE_URL``, ``REDIS_URL``/``QUEUE_NAME``, ``SECRETS_KEY``) and closes at
    shutdown; injected resources are left for their owner to close."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            the_cipher = cipher or load_secrets_cipher()
            the_sessionmaker = sessionmaker
            if the_sessionmaker is None:
                engine = create_engine()
                stack.push_async_callback(engine.dispose)
                the_sessionmaker = create_sessionmaker(engine)
            the_queue = queue
            if the_queue is None:
                the_queue = await open_queue(queue_settings)
                stack.push_async_callback(the_queue.aclose)
            app.state.resources = Resources(the_sessionmaker, the_queue, the_cipher)
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
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(projects.router)
    return app


def run(host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "INFO") -> None:
    """Serve the API with uvicorn (``provisioner api --host --port`` calls this)."""
    import uvicorn

    from shared.logging import configure_logging

    configure_logging(level=log_level)
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )

"""The FastAPI app: :func:`create_app` builds it, :func:`run` serves it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from arq.connections import ArqRedis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api import health, metrics
from api.changes import ProjectChanges
from api.deps import Resources
from api.errors import install_error_handlers
from api.projects import routes as projects
from api.repo_tokens import RepoTokenMinter, build_minter
from api.request_context import RequestContextMiddleware
from shared.crypto import SecretsCipher, load_secrets_cipher
from shared.db.engine import DatabaseSettings, create_engine, create_sessionmaker
from shared.jobs import QueueSettings, open_queue
from shared.settings import GitHubSettings, load_github_settings

__all__ = ["app_from_environment", "create_app", "preflight", "run"]


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    queue: ArqRedis | None = None,
    cipher: SecretsCipher | None = None,
    queue_settings: QueueSettings | None = None,
    changes: ProjectChanges | None = None,
    tokens: RepoTokenMinter | None = None,
) -> FastAPI:
    """The API app. What is not injected the lifespan builds from the environment
    (``DATABASE_URL``, ``REDIS_URL``/``QUEUE_NAME``, ``SECRETS_KEY``, the GitHub App)
    and closes at shutdown; injected resources are left for their owner to close.

    With an injected ``sessionmaker`` (tests), the change listener and the token
    minter are used only when injected too."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            the_cipher = cipher or load_secrets_cipher()
            the_sessionmaker = sessionmaker
            the_changes, the_tokens = changes, tokens
            if the_sessionmaker is None:
                db = DatabaseSettings()
                database_url = db.database_url
                engine = create_engine(
                    database_url,
                    application_name="provisioner-api",
                    pool_size=db.db_pool_size,
                    max_overflow=db.db_max_overflow,
                )
                stack.push_async_callback(engine.dispose)
                the_sessionmaker = create_sessionmaker(engine)
                if the_changes is None:
                    the_changes = ProjectChanges(database_url)
                    await the_changes.start()
                    stack.push_async_callback(the_changes.stop)
                if the_tokens is None:
                    the_tokens = build_minter()
                    if the_tokens is not None:
                        stack.push_async_callback(the_tokens.aclose)
            the_queue = queue
            if the_queue is None:
                the_queue = await open_queue(queue_settings)
                stack.push_async_callback(the_queue.aclose)
            app.state.resources = Resources(
                the_sessionmaker, the_queue, the_cipher, the_changes, the_tokens
            )
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
    app.include_router(metrics.router)
    app.include_router(projects.router)
    return app


def preflight() -> None:
    """Check the configuration now, so a mistake is one line at start (:class:`ConfigError`)."""
    load_secrets_cipher()
    if GitHubSettings().app_id:
        load_github_settings()


def app_from_environment() -> FastAPI:
    """The app as a uvicorn factory for worker processes: logging set up, config from env."""
    from shared.logging import configure_logging

    configure_logging()
    return create_app()


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    workers: int = 1,
    log_level: str | None = None,
) -> None:
    """Serve the API with uvicorn (``provisioner api --host --port --workers`` calls this).

    Each of ``workers`` processes has its own connection pool and change listener.
    """
    import uvicorn

    from shared.logging import configure_logging

    configure_logging(level=log_level)
    preflight()
    app: FastAPI | str = create_app() if workers == 1 else "api.main:app_from_environment"
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )

"""Serving: the API under uvicorn and the worker under arq, each from :class:`Settings`."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from api.app import create_app
from cli.resources import api_resources, worker_state
from shared.logging import configure_logging
from shared.settings import Settings, load_settings
from worker.main import build_worker

__all__ = ["api_app_from_environment", "run_api", "run_worker"]


def _api_app(settings: Settings) -> FastAPI:
    return create_app(
        partial(api_resources, settings),
        max_body_bytes=settings.api.max_body_bytes,
        ops_console=settings.ops.console,
    )


def api_app_from_environment() -> FastAPI:
    """The app as a uvicorn factory for each of several API processes."""
    settings = load_settings()
    configure_logging(settings.logging)
    return _api_app(settings)


def run_api(settings: Settings) -> None:
    """Serve the API with uvicorn on ``settings.api`` (host, port, processes).

    Each process has its own connection pool and change listener.
    """
    import uvicorn

    configure_logging(settings.logging)
    workers = settings.api.workers
    app: FastAPI | str = (
        _api_app(settings) if workers == 1 else "cli.serve:api_app_from_environment"
    )
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=settings.api.host,
        port=settings.api.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def run_worker(settings: Settings) -> None:
    """Run a worker until SIGINT/SIGTERM (running jobs get ``WORKER_SHUTDOWN_WAIT_S``)."""
    configure_logging(settings.logging)
    build_worker(settings.worker, settings.redis, partial(worker_state, settings)).run()

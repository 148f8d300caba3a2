"""The arq worker: its functions, cron, lifecycle hooks and settings."""

from __future__ import annotations

from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func
from pydantic import ValidationError

from shared.crypto import load_secrets_cipher
from shared.db.engine import create_engine, create_sessionmaker
from shared.errors import ConfigError
from shared.github.client import GitHubClient
from shared.jobs import PROVISION_JOB, QueueSettings, deserialize, serialize
from shared.logging import configure_logging
from shared.provisioning.steps import Provisioner
from shared.settings import load_github_settings
from worker.config import WorkerConfig
from worker.context import WorkerState
from worker.health import health_check_key
from worker.provision import provision_project
from worker.sweeper import sweep_unfinished

__all__ = ["build_state", "build_worker", "preflight", "run"]

_log = structlog.get_logger("worker")


async def build_state(config: WorkerConfig) -> WorkerState:
    """Everything a job needs, from the environment; configuration errors surface here."""
    github = GitHubClient(load_github_settings(), write_interval_s=config.github_write_interval_s)
    engine = create_engine(
        application_name="provisioner-worker", pool_size=config.max_jobs, max_overflow=2
    )
    return WorkerState(
        config=config,
        sessionmaker=create_sessionmaker(engine),
        github=github,
        provisioner=Provisioner(github, visibility_delays_s=config.visibility_delays_s),
        cipher=load_secrets_cipher(),
    )


def build_worker(
    *,
    config: WorkerConfig | None = None,
    queue: QueueSettings | None = None,
    state: WorkerState | None = None,
    burst: bool = False,
    close_state: bool = True,
    **overrides: Any,
) -> Worker:
    """An arq ``Worker`` for provisioning. Tests pass ``state`` and ``burst=True``."""
    config = config or (state.config if state is not None else WorkerConfig())
    queue = queue or QueueSettings()

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["state"] = state if state is not None else await build_state(config)
        _log.info("worker.started", queue=queue.queue_name)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        current: WorkerState | None = ctx.get("state")
        if current is not None and close_state:
            await current.github.aclose()
            engine = current.sessionmaker.kw.get("bind")
            if engine is not None:
                await engine.dispose()
        _log.info("worker.stopped")

    redis_settings: RedisSettings = queue.arq()
    options: dict[str, Any] = {
        "functions": [
            func(
                provision_project, name=PROVISION_JOB, max_tries=1_000, timeout=config.job_timeout_s
            )
        ],
        "cron_jobs": [
            cron(
                sweep_unfinished,
                name="sweep_unfinished",
                second=set(range(0, 60, config.sweep_every_s))
                if config.sweep_every_s < 60
                else {0},
                unique=True,
                run_at_startup=False,
                # arq re-runs a killed job after the longest timeout of any function + 10 s:
                # the sweeper must not lengthen that.
                timeout=config.job_timeout_s,
            )
        ],
        "redis_settings": redis_settings,
        "queue_name": queue.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "max_jobs": config.max_jobs,
        "job_timeout": config.job_timeout_s,
        "poll_delay": config.poll_delay_s,
        "health_check_interval": config.health_check_interval_s,
        "health_check_key": health_check_key(queue),
        "job_completion_wait": config.shutdown_wait_s,
        "keep_result": 600,
        "burst": burst,
    }
    options.update(overrides)
    return Worker(**options)


def preflight() -> WorkerConfig:
    """Check the configuration now, so a mistake is one line at start (:class:`ConfigError`)."""
    try:
        config = WorkerConfig()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"WORKER_{str(first['loc'][0]).upper()}: {first['msg']}") from None
    load_github_settings()
    load_secrets_cipher()
    return config


def run() -> None:
    """Run a worker until SIGINT/SIGTERM (running jobs get ``WORKER_SHUTDOWN_WAIT_S``)."""
    configure_logging()
    config = preflight()
    build_worker(config=config).run()

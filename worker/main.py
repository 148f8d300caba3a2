"""The arq worker: its functions, cron, lifecycle hooks and settings."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import structlog
from arq import cron
from arq.worker import Worker, func

from shared.jobs import MAINTAIN_JOB, PROVISION_JOB, arq_redis_settings, deserialize, serialize
from shared.settings import RedisSettings, WorkerSettings
from worker.context import WorkerState
from worker.health import Heartbeat, health_check_key
from worker.maintain import maintain_project
from worker.provision import provision_project
from worker.reconcile import schedule_maintenance
from worker.sweeper import sweep_unfinished
from worker.wakeup import Wakeup

__all__ = ["build_worker"]

_log = structlog.get_logger(__name__)


def build_worker(
    config: WorkerSettings,
    redis: RedisSettings,
    open_state: Callable[[], AbstractAsyncContextManager[WorkerState]],
    *,
    burst: bool = False,
    **overrides: Any,
) -> Worker:
    """An arq ``Worker`` for provisioning whose jobs share what ``open_state()`` yields.

    The state is entered at startup and left at shutdown. A job dispatched to the queue
    starts at once (:mod:`worker.wakeup`), not at the next poll. Tests pass ``burst=True``
    (polling only) and arq options in ``overrides``.
    """

    worker: Worker | None = None

    def job_counts() -> tuple[int, int, int, int]:
        if worker is None:
            return 0, 0, 0, 0
        return len(worker.job_tasks), worker.jobs_complete, worker.jobs_failed, worker.jobs_retried

    async def on_startup(ctx: dict[str, Any]) -> None:
        stack = AsyncExitStack()
        ctx["state"] = await stack.enter_async_context(open_state())
        ctx["exit_stack"] = stack
        heartbeat = Heartbeat(
            ctx["redis"],
            redis.queue_name,
            interval_s=config.health_check_interval_s,
            counts=job_counts,
        )
        await heartbeat.start()
        stack.push_async_callback(heartbeat.stop)
        if not burst and worker is not None:  # a burst worker (tests) only polls
            wakeup = Wakeup(worker, ctx["redis"], redis.queue_name)
            await wakeup.start()
            stack.push_async_callback(wakeup.stop)
        _log.info("worker.started", queue=redis.queue_name)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        stack: AsyncExitStack | None = ctx.pop("exit_stack", None)
        if stack is not None:
            await stack.aclose()
        _log.info("worker.stopped")

    sweep_seconds = set(range(0, 60, config.sweep_every_s)) if config.sweep_every_s < 60 else {0}
    options: dict[str, Any] = {
        "functions": [
            func(
                provision_project, name=PROVISION_JOB, max_tries=1_000, timeout=config.job_timeout_s
            ),
            func(
                maintain_project, name=MAINTAIN_JOB, max_tries=1_000, timeout=config.job_timeout_s
            ),
        ],
        "cron_jobs": [
            cron(
                sweep_unfinished,
                name="sweep_unfinished",
                second=sweep_seconds,
                unique=True,
                run_at_startup=False,
                # arq re-runs a killed job after the longest timeout of any function + 10 s:
                # the sweeper must not lengthen that.
                timeout=config.job_timeout_s,
            ),
            cron(
                schedule_maintenance,
                name="schedule_maintenance",
                second=sweep_seconds,
                unique=True,
                run_at_startup=False,
                timeout=config.job_timeout_s,
            ),
        ],
        "redis_settings": arq_redis_settings(redis),
        "queue_name": redis.queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "max_jobs": config.max_jobs,
        "job_timeout": config.job_timeout_s,
        "poll_delay": config.poll_delay_s,
        "health_check_interval": config.health_check_interval_s,
        "health_check_key": health_check_key(redis.queue_name),
        "job_completion_wait": config.shutdown_wait_s,
        "keep_result": 600,
        "burst": burst,
    }
    options.update(overrides)
    worker = Worker(**options)
    return worker

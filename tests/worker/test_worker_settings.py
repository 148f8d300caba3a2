"""The arq worker's settings: how soon a killed job runs again, JSON payloads, probe key.

Async tests: arq's ``Worker`` takes the running loop (outside one it makes a loop it never closes).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

import pytest

from shared.jobs import deserialize, serialize
from shared.settings import RedisSettings, WorkerSettings
from worker.context import WorkerState
from worker.main import build_worker

_REDIS = RedisSettings(queue_name="settings-test")


def _no_state() -> AbstractAsyncContextManager[WorkerState]:
    raise AssertionError("these tests never start the worker")


@pytest.mark.parametrize("job_timeout_s", [10, 90])
async def test_a_killed_job_runs_again_after_its_own_timeout_plus_ten_seconds(
    job_timeout_s: int,
) -> None:
    worker = build_worker(WorkerSettings(job_timeout_s=job_timeout_s), _REDIS, _no_state)
    # arq keeps a job "in progress" for the longest timeout of ANY function + 10 s,
    # so the sweeper's cron must not be the longest.
    assert worker.in_progress_timeout_s == job_timeout_s + 10


async def test_worker_reacts_fast_and_reports_health_often() -> None:
    worker = build_worker(WorkerSettings(), _REDIS, _no_state)
    assert worker.poll_delay_s <= 0.05
    assert worker.health_check_interval <= 15
    assert worker.health_check_key.startswith("settings-test:health-check:")
    assert worker.job_serializer is serialize  # JSON, never pickle
    assert worker.job_deserializer is deserialize

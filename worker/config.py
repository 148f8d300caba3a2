"""The worker's own settings (environment variables prefixed ``WORKER_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["WorkerConfig"]


class WorkerConfig(BaseSettings):
    """How hard the worker tries, how fast it reacts, and how it spaces GitHub writes."""

    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", frozen=True)

    max_attempts: int = Field(default=8, ge=1, description="Attempts per generation.")
    backoff_base_s: float = Field(default=2.0, gt=0, description="First retry's ceiling.")
    backoff_cap_s: float = Field(default=300.0, gt=0, description="No retry waits longer.")
    job_timeout_s: int = Field(
        default=90, ge=10, description="Also how soon a killed job runs again (+10 s)."
    )
    max_jobs: int = Field(default=10, ge=1)
    poll_delay_s: float = Field(
        default=0.02, gt=0, description="Queue polling; half of it is the mean pickup delay."
    )
    health_check_interval_s: int = Field(default=10, ge=1)
    shutdown_wait_s: int = Field(default=20, ge=0, description="Grace for running jobs.")
    sweep_every_s: int = Field(default=30, ge=5, description="Sweeper period.")
    sweep_grace_s: float = Field(
        default=60.0, ge=0, description="A row untouched this long whose job is gone is requeued."
    )
    github_write_interval_s: float = Field(
        default=1.0, ge=0, description="Spacing of mutating GitHub requests (GitHub's advice)."
    )
    visibility_delays_s: tuple[float, ...] = Field(
        default=(1.0, 2.0, 4.0, 8.0), description="Waits for a new repository's 404s to end."
    )

"""The worker's Prometheus metrics, served on ``WORKER_METRICS_PORT`` (0: not served).

Jobs started, succeeded, failed, retried and deferred (by code), job duration,
GitHub requests by endpoint and status, and the time requests waited for the
fleet's GitHub budget. The fleet-wide budget gauges are the API's ``/metrics``.
"""

from __future__ import annotations

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

__all__ = ["WorkerMetrics"]

_log = structlog.get_logger(__name__)


class WorkerMetrics:
    """One process's counters, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.jobs = Counter(
            "provisioner_jobs",
            "Provisioning job runs by outcome (started, succeeded, failed, retried, deferred)"
            " and failure code",
            ["outcome", "code"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "provisioner_job_duration_seconds",
            "How long one job run took, by outcome",
            ["outcome"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )
        self.github_requests = Counter(
            "provisioner_github_requests",
            "GitHub requests by method, endpoint template and status (none: no answer)",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.budget_wait_seconds = Histogram(
            "provisioner_github_budget_wait_seconds",
            "Time a request waited for the fleet's GitHub budget before it was sent",
            buckets=(0.001, 0.01, 0.1, 0.5, 1, 2, 3, 5),
            registry=self.registry,
        )

    def job(self, outcome: str, seconds: float, code: str = "") -> None:
        """Count a job run that ended with ``outcome`` after ``seconds``."""
        self.jobs.labels(outcome=outcome, code=code).inc()
        self.job_seconds.labels(outcome=outcome).observe(seconds)

    def github_request(self, method: str, endpoint: str, status: int | None, _s: float) -> None:
        """Count one GitHub request try (a :data:`~shared.github.transport.RequestObserver`)."""
        self.github_requests.labels(
            method=method, endpoint=endpoint, status=str(status) if status else "none"
        ).inc()

    def serve(self, port: int) -> None:
        """Serve ``/metrics`` on ``port`` in a thread; a port in use is a warning, not a crash."""
        if not port:
            return
        try:
            start_http_server(port, registry=self.registry)
        except OSError as exc:
            _log.warning("metrics.not_served", port=port, error=str(exc))
            return
        _log.info("metrics.serving", port=port)

"""``/metrics`` (Prometheus text format): what the process is doing right now.

Read at scrape time from the app's resources: long polls waiting, change
notifications received, whether the change listener is up, database
connections checked out of this process's pool, and the fleet's GitHub
budget (``provisioner_github_budget_*``).
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.deps import Resources, get_resources
from shared.budget.metrics import METRICS, metric_values
from shared.budget.models import BudgetSnapshot

__all__ = ["router"]

router = APIRouter(tags=["health"])


class _ResourcesCollector(Collector):
    def __init__(self, resources: Resources, budget: BudgetSnapshot | None) -> None:
        self._resources = resources
        self._budget = budget

    def collect(self) -> Iterator[Metric]:
        changes = self._resources.changes
        yield GaugeMetricFamily(
            "provisioner_long_polls_waiting",
            "Requests waiting in GET /api/projects/{id}?wait=",
            value=changes.waiting if changes is not None else 0,
        )
        yield GaugeMetricFamily(
            "provisioner_change_listener_up",
            "1 while PostgreSQL change notifications arrive",
            value=1 if changes is not None and changes.listening else 0,
        )
        yield CounterMetricFamily(
            "provisioner_change_notifications",
            "Project change notifications received",
            value=changes.notifications if changes is not None else 0,
        )
        engine = self._resources.engine
        pool = getattr(engine, "pool", None)
        checked_out = getattr(pool, "checkedout", None)
        yield GaugeMetricFamily(
            "provisioner_db_connections_checked_out",
            "Database connections this process's pool has lent out",
            value=checked_out() if callable(checked_out) else 0,
        )
        if self._budget is not None:
            for name, value in metric_values(self._budget).items():
                yield GaugeMetricFamily(f"provisioner_{name}", METRICS[name], value=value)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the process's gauges and counters."""
    resources = get_resources(request)
    budget = await resources.budget.snapshot() if resources.budget is not None else None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ResourcesCollector(resources, budget))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

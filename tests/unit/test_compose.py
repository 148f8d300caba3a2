"""compose.yaml stays what users expect (no Docker engine here to run it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"


def _services() -> dict[str, Any]:
    document = YAML(typ="safe").load(COMPOSE.read_text())
    services: dict[str, Any] = document["services"]
    return services


def test_services_and_their_order() -> None:
    services = _services()
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker", "sandbox"}
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("api", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "provisioner", "worker", "--check"]
    assert "ports" not in services["worker"]  # scalable: docker compose up --scale worker=3

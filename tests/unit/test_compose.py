"""compose.yaml stays what users expect (no Docker engine here to run it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"


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


def _stages() -> list[tuple[str, str, list[str]]]:
    """The Dockerfile's stages: (name, base, instructions), in order."""
    stages: list[tuple[str, str, list[str]]] = []
    logical = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in logical.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "FROM":
            name = words[3] if len(words) > 3 and words[2].upper() == "AS" else ""
            stages.append((name, words[1], []))
        else:
            stages[-1][2].append(line)
    return stages


def test_services_build_the_runtime_and_the_sandbox_builds_its_own_target() -> None:
    services = _services()
    stages = {name: (base, body) for name, base, body in _stages() if name}
    for name in ("migrate", "api", "worker"):
        assert services[name]["build"] == {"context": ".", "target": "runtime"}, name
        assert services[name]["image"] == "provisioner:local"
    assert services["sandbox"]["build"] == {"context": ".", "target": "sandbox"}
    assert services["sandbox"]["image"] != "provisioner:local"  # two images, two names
    assert set(stages) == {"runtime", "sandbox"}
    assert stages["sandbox"][0] == "runtime"


def test_only_the_sandbox_target_installs_the_sandbox_extra() -> None:
    stages = _stages()
    runtime = next(body for name, _, body in stages if name == "runtime")
    sandbox = next(body for name, _, body in stages if name == "sandbox")
    assert not any("sandbox]" in line or "sandbox.lock" in line for line in runtime)
    assert any("sandbox]" in line or "sandbox.lock" in line for line in sandbox)
    assert stages[-1][1] == "runtime"  # what a plain `docker build .` makes

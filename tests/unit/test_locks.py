"""The lock files agree with pyproject.toml and with each other (`make lock` rewrites them).

A dependency added or a floor raised without `make lock` fails here, not in an image build.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements.lock": (),
    "requirements-sandbox.lock": ("sandbox",),
    "requirements-dev.lock": ("sandbox", "dev"),
}
LOCAL = {"provisioner", "provisioner-client"}  # installed from the tree, never from an index
# Where the locks are resolved (Makefile: --python-version 3.11 --python-platform linux).
TARGET = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
          "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
          "platform_python_implementation": "CPython", "platform_machine": "x86_64"}  # fmt: skip
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;]+)(?P<rest>.*)$")


def _lock(name: str) -> dict[str, tuple[Version, list[str]]]:
    """``{package: (version, hashes)}`` from one lock file."""
    text = (ROOT / name).read_text().replace("\\\n", " ")
    pins: dict[str, tuple[Version, list[str]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PIN.match(line)
        assert match, f"{name}: not a pinned requirement: {line[:80]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", match["rest"])
        pins[canonicalize_name(match["name"])] = (Version(match["version"]), hashes)
    return pins


def _declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    client = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *client["dependencies"]]
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    wanted = [Requirement(line) for line in lines]
    return [r for r in wanted if r.marker is None or r.marker.evaluate({**TARGET, "extra": ""})]


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_every_declared_requirement_is_pinned_within_its_range(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = _lock(lock)
    for requirement in _declared(extras):
        name = canonicalize_name(requirement.name)
        if name in LOCAL:
            continue
        assert name in pins, f"{lock} lacks {name}: run `make lock`"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_is_hashed_and_nothing_local_is_locked(lock: str) -> None:
    pins = _lock(lock)
    assert pins
    assert not LOCAL & set(pins), "the project and ./client come from the tree (--no-deps)"
    assert all(hashes for _, hashes in pins.values()), [n for n, (_, h) in pins.items() if not h]


def test_the_locks_nest_with_one_version_per_package() -> None:
    runtime, sandbox, dev = (_lock(name) for name in LOCKS)
    assert set(runtime) <= set(sandbox) <= set(dev)
    for name in sandbox:
        assert sandbox[name] == dev[name], name  # the images run what the tests ran
    for name in runtime:
        assert runtime[name] == dev[name], name
    assert not {"openapi-core", "werkzeug", "pytest", "mypy"} & set(runtime)

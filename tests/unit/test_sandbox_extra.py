"""The runtime runs without the sandbox extra; `provisioner sandbox` says what is missing."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from typer.testing import CliRunner

from cli.main import SANDBOX_EXTRA_MODULES, app

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "provisioner: the sandbox needs the 'sandbox' extra: pip install 'provisioner[sandbox]'"

# Runs the runtime's entry points as the runtime image would: openapi-core and werkzeug absent.
_RUNTIME = """
import importlib.abc, json, sys

BLOCKED = set(json.loads(sys.argv[1]))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
import api.app, worker.main, cli.main, cli.resources, shared.db.migrate
print(json.dumps(sorted(name for name in sys.modules if name.startswith("sandbox"))))
"""


def test_the_extra_holds_the_sandbox_dependencies_and_the_runtime_does_not() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {Requirement(r).name for r in project["dependencies"]}
    extra = {Requirement(r).name for r in project["optional-dependencies"]["sandbox"]}
    assert extra == {"openapi-core", "werkzeug"}
    assert runtime.isdisjoint(extra)
    assert {name.replace("_", "-") for name in SANDBOX_EXTRA_MODULES} == extra


def test_api_worker_and_cli_import_without_the_extra() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _RUNTIME, json.dumps(SANDBOX_EXTRA_MODULES)],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []  # the sandbox is imported only by its command


@pytest.mark.parametrize("missing", SANDBOX_EXTRA_MODULES)
@pytest.mark.parametrize("args", [["sandbox"], ["sandbox", "--help"], ["demo"]])
def test_sandbox_commands_say_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch, missing: str, args: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [MESSAGE]
    assert "Traceback" not in result.output

"""The SDK (``client/``, distribution ``provisioner-client``) stands alone: httpx and stdlib.

Submitters and LangGraph workers install it without the server, so importing and using it
must not pull in FastAPI, SQLAlchemy, arq, the sandbox or any of the server's packages.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement

import provisioner_client
from provisioner_client import agents, projects

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "client"
PACKAGE = CLIENT / "provisioner_client"

SERVER_MODULES = (
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "asyncpg", "alembic", "arq", "redis",
    "pydantic", "pydantic_settings", "typer", "structlog", "jwt", "nacl", "openapi_core",
    "werkzeug", "api", "worker", "shared", "sandbox", "cli",
)  # fmt: skip

# Blocks the server's packages, then drives the SDK through an in-memory transport: a lazy
# import anywhere on these paths would fail here even though the packages are installed.
_WITHOUT_SERVER = """
import asyncio, importlib.abc, json, sys

BLOCKED = set(json.loads(sys.argv[1]))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked: {name}", name=name)
        return None

sys.meta_path.insert(0, Block())

import httpx
from provisioner_client import ProjectsClient, SyncProjectsClient, prepare_developer_task

PROJECT = {
    "id": "p1", "name": "Bot", "status": "ready",
    "repo_info": {"owner": "acme", "name": "bot", "full_name": "acme/bot",
                  "html_url": "https://github.com/acme/bot",
                  "clone_url": "https://github.com/acme/bot.git", "default_branch": "main"},
}

def answer(request):
    if request.url.path.endswith("/token"):
        return httpx.Response(201, json={"token": "ghs_x", "expires_at": "soon"})
    return httpx.Response(200, json=PROJECT)

async def main():
    transport = httpx.MockTransport(answer)
    async with ProjectsClient("http://api", "t", transport=transport) as client:
        task = await prepare_developer_task({"project_id": "p1"}, client)
    assert task.repo_info["full_name"] == "acme/bot"

asyncio.run(main())
with SyncProjectsClient("http://api", "t", transport=httpx.MockTransport(answer)) as client:
    assert client.get("p1")["status"] == "ready"
print(json.dumps(sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)))
"""


def _python(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-I", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_sdk_imports_no_server_module() -> None:
    code = "import json, sys, provisioner_client; print(json.dumps(sorted(sys.modules)))"
    loaded = {name.partition(".")[0] for name in json.loads(_python("-c", code))}
    assert loaded.isdisjoint(SERVER_MODULES), sorted(loaded & set(SERVER_MODULES))


def test_the_sdk_works_with_the_server_packages_blocked() -> None:
    assert json.loads(_python("-c", _WITHOUT_SERVER, json.dumps(SERVER_MODULES))) == []


def test_the_sdk_source_imports_only_the_stdlib_and_httpx() -> None:
    allowed = set(sys.stdlib_module_names) | {"httpx", "provisioner_client"}
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.partition(".")[0] in allowed, f"{path.name} imports {name}"


def test_the_distribution_depends_on_httpx_only() -> None:
    declared = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert declared["name"] == "provisioner-client"
    assert [Requirement(r).name for r in declared["dependencies"]] == ["httpx"]
    assert not declared.get("optional-dependencies")
    installed = distribution("provisioner-client").requires or []
    assert [Requirement(r).name for r in installed] == ["httpx"]


def test_it_ships_its_types() -> None:
    assert (PACKAGE / "py.typed").is_file()
    setuptools = tomllib.loads((CLIENT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["provisioner_client"]


def test_the_server_distribution_depends_on_it_by_name() -> None:
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (client,) = [Requirement(r) for r in server if Requirement(r).name == "provisioner-client"]
    assert client.url is None  # by name: make install and the Dockerfile bring ./client


def test_the_package_re_exports_its_modules_public_names() -> None:
    assert sorted(provisioner_client.__all__) == sorted([*projects.__all__, *agents.__all__])
    for name in provisioner_client.__all__:
        assert getattr(provisioner_client, name) is getattr(
            projects if name in projects.__all__ else agents, name
        )

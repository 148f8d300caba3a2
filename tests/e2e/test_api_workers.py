"""``provisioner api --workers 2``: worker processes serve with the environment's settings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from cli.processes import Children, free_port, wait_until_up
from shared.crypto import generate_secrets_key

pytestmark = pytest.mark.integration


async def test_two_api_processes_serve_and_log_json(
    module_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": module_database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/7",
        "SECRETS_KEY": generate_secrets_key(),
    }
    args = [sys.executable, "-m", "cli.main", "api", "--port", str(port), "--workers", "2"]
    with Children(tmp_path, announce=False) as children:
        children.start("api", args, env)
        await wait_until_up(f"http://127.0.0.1:{port}/readyz", children)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            answers = [await http.get("/readyz") for _ in range(10)]
            unauthenticated = await http.get("/api/projects")
    assert {a.status_code for a in answers} == {200}
    assert unauthenticated.status_code == 401
    events = [json.loads(line) for line in children_log(tmp_path) if line.startswith("{")]
    started = [e for e in events if e.get("event") == "changes.listening"]
    assert len(started) == 2  # one change listener per process, logging through structlog


def children_log(workdir: Path) -> list[str]:
    return (workdir / "api.log").read_text().splitlines()

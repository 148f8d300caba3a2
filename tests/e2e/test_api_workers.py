"""``provisioner api --workers 2``: worker processes serve with the environment's settings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cli.harness import running_stack
from tests.redis_urls import redis_url

pytestmark = pytest.mark.integration


async def test_two_api_processes_serve_and_log_json(tmp_path: Path) -> None:
    async with (
        running_stack(
            "test_api_workers",
            workdir=tmp_path,
            redis_url=redis_url(7),
            sandbox=None,
            workers=0,
            env={"API_WORKERS": "2"},
        ) as stack,
        httpx.AsyncClient(base_url=stack.api_url) as http,
    ):
        answers = [await http.get("/readyz") for _ in range(10)]
        unauthenticated = await http.get("/api/projects")
    log = (tmp_path / "api.log").read_text().splitlines()  # complete once the API stopped
    assert {a.status_code for a in answers} == {200}
    assert unauthenticated.status_code == 401
    events = [json.loads(line) for line in log if line.startswith("{")]
    started = [e for e in events if e.get("event") == "changes.listening"]
    assert len(started) == 2  # one change listener per process, logging through structlog

"""``provisioner demo``: the whole flow against the sandbox, in separate processes.

Starts the GitHub sandbox, the API (with the ops console) and a worker as child
processes, creates "Тестовый бот" with one secret, prints every status until
``ready``, shows what landed in the (sandbox) repository, prints the ops
console's URL and an ops token, then stops everything it started; with
``--keep`` it leaves all of it running until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import time
from pathlib import Path
from typing import Any

from cli.demo_after_ready import after_ready
from cli.harness import (
    Sandbox,
    Stack,
    check_redis,
    create_database,
    drop_database,
    running_stack,
)
from provisioner_client import ProjectsClient
from shared.github.client import GitHubClient
from shared.logging import configure_logging
from shared.settings import LoggingSettings

__all__ = ["run_demo"]

WORKDIR = Path(".demo")
PROJECT_NAME = "Тестовый бот"
SANDBOX_LATENCY_MS = 100
DEMO_DATABASE = "provisioner_demo"


def _say(text: str) -> None:
    print(text, flush=True)


async def _follow(client: ProjectsClient, project_id: str, timeout_s: float = 60) -> dict[str, Any]:
    """Print every status the project passes through until it finishes (long poll)."""
    started = time.monotonic()
    project, etag = await client.wait_for_change(project_id, wait_s=0)
    assert project is not None
    _say(f"  +{0:7.0f} ms  status {project['status']}  (attempts {project['attempts']})")
    while project["status"] not in ("ready", "repo_failed"):
        left = timeout_s - (time.monotonic() - started)
        if left <= 0:
            break
        changed, etag = await client.wait_for_change(project_id, wait_s=min(30, left), etag=etag)
        if changed is None or changed["status"] == project["status"]:
            project = changed or project
            continue
        project = changed
        elapsed = (time.monotonic() - started) * 1000
        _say(f"  +{elapsed:7.0f} ms  status {project['status']}  (attempts {project['attempts']})")
    return project


async def _show_repository(stack: Stack, full_name: str) -> None:
    owner, name = full_name.split("/", 1)
    async with GitHubClient(stack.github_settings().app) as github:
        project_file = await github.get_file(owner, name, ".project.yaml")
        listed = await github.request("GET", f"/repos/{owner}/{name}/actions/secrets")
    _say("  .project.yaml:")
    text = project_file.content.decode() if project_file else "(missing)\n"
    for line in text.splitlines():
        _say(f"    | {line}")
    names = [s["name"] for s in listed.json()["secrets"]]
    _say(f"  Actions secrets: {', '.join(names) or '(none)'}")


DEMO_SETTINGS = {
    "topics": ["python", "agents"],
    "teams": {"platform": "maintain"},
    "variables": {"PYTHON_VERSION": "3.12"},
    "protection": {"required_approvals": 1, "status_checks": ["ci"]},
}
"""A few repository settings (the sandbox's org gets a team ``platform`` for them)."""


async def _story(stack: Stack) -> int:
    user_token = await stack.token("user", "demo-user")
    _say(
        f'3. POST /api/projects/ {{"name": "{PROJECT_NAME}", "secrets": {{"OPENAI_API_KEY": ...}}, '
        f'"repository": {json.dumps(DEMO_SETTINGS)}}}'
    )
    async with ProjectsClient(stack.api_url, user_token) as client:
        posted = time.perf_counter()
        project = await client.create(
            PROJECT_NAME,
            description="Demo project created by provisioner demo",
            config={"language": "python", "template": "langgraph-agent"},
            secrets={"OPENAI_API_KEY": "sk-demo-" + secrets.token_hex(8)},
            repository=DEMO_SETTINGS,
        )
        _say(
            f"   answered {(time.perf_counter() - posted) * 1000:.0f} ms later: "
            f"id {project['id']}, repo_name {project['repo_name']}, status {project['status']}"
        )
        _say("4. following the project (long poll: GET /api/projects/{id}?wait=30)")
        project = await _follow(client, project["id"])
        minted = await client.repo_token(project["id"]) if project["status"] == "ready" else None
        events = await client.events(project["id"])
    _say("   events: " + " → ".join(e["kind"] for e in events))
    if project["status"] != "ready":
        error = project.get("last_error") or {}
        _say(f"FAILED: {project['status']}: {error.get('code')}: {error.get('message')}")
        return 1
    info = project["repo_info"]
    _say(f"5. repository {info['full_name']}  {info['html_url']}")
    _say(f"   clone {info['clone_url']} (default branch {info['default_branch']})")
    secret_states = ", ".join(f"{s['name']}={s['state']}" for s in project["secrets"])
    _say(f"   secrets as the API reports them: {secret_states}")
    setting_states = ", ".join(f"{s['setting']}={s['state']}" for s in project["settings"])
    _say(f"   settings as the API reports them: {setting_states}")
    await _show_repository(stack, info["full_name"])
    if minted is not None:
        permissions = ", ".join(f"{k}:{v}" for k, v in sorted(minted["permissions"].items()))
        _say(
            f"6. an agent's token (POST /api/projects/{{id}}/token): {minted['token'][:4]}… "
            f"for {minted['repository']} only ({permissions}), expires {minted['expires_at']}"
        )
    async with ProjectsClient(stack.api_url, user_token) as client:
        await after_ready(stack, client, project)
    return 0


async def _console(stack: Stack, *, keep_running: bool) -> None:
    """Print how to open the ops console; with ``keep_running``, wait for Ctrl-C."""
    ops_token = await stack.token("ops", "demo-ops")
    _say(f"8. ops console: {stack.api_url}/ops  (sign in with this ops token: {ops_token})")
    if not keep_running:
        return
    _say("   the stack keeps running; press Ctrl-C to stop it")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):
                loop.remove_signal_handler(sig)


async def _demo(keep_database: bool, keep_running: bool) -> int:
    _say("1. PostgreSQL and Redis answer; a fresh demo database, migrated")
    await check_redis()
    database = await create_database(DEMO_DATABASE)
    try:
        _say(
            f"2. starting the GitHub sandbox ({SANDBOX_LATENCY_MS} ms per call), "
            "the API and a worker"
        )
        async with running_stack(
            "demo",
            workdir=WORKDIR,
            database_url=database.url,
            sandbox=Sandbox(process=True, latency_s=SANDBOX_LATENCY_MS / 1000, teams=("platform",)),
            announce=True,
            env={"OPS_CONSOLE": "1"},
        ) as stack:
            code = await _story(stack)
            await _console(stack, keep_running=keep_running)
            return code
    finally:
        if not keep_database:
            await drop_database(database)


def run_demo(*, keep_database: bool = False, keep_running: bool = False) -> int:
    """Run the demo; returns the exit status (0 when the project became ready).

    ``keep_running`` leaves the stack up until Ctrl-C (or SIGTERM)."""
    configure_logging(LoggingSettings(level="WARNING", format="console"))
    code = asyncio.run(_demo(keep_database, keep_running))
    _say(
        "9. everything the demo started is stopped"
        + ("" if keep_database else "; demo database dropped")
    )
    return code

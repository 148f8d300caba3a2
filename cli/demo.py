"""``provisioner demo``: the whole flow against the sandbox, in separate processes.

Starts the GitHub sandbox, the API and a worker as child processes, creates
"Тестовый бот" with one secret, prints every status until ``ready``, shows
what landed in the (sandbox) repository, then stops everything it started.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from redis.asyncio import Redis
from sqlalchemy import make_url

from cli.processes import Children, free_port, wait_until_up
from provisioner_client import ProjectsClient
from shared.crypto import generate_secrets_key
from shared.db.migrate import upgrade_to_head
from shared.errors import ConfigError
from shared.github.client import GitHubClient
from shared.logging import configure_logging
from shared.projects.api_tokens import issue_api_token
from shared.settings import GitHubSettings

__all__ = ["run_demo"]

WORKDIR = Path(".demo")
PROJECT_NAME = "Тестовый бот"
SANDBOX_LATENCY_MS = 100
DEMO_DATABASE = "provisioner_demo"


def _say(text: str) -> None:
    print(text, flush=True)


def _server_url() -> str:
    """The PostgreSQL server from DATABASE_URL (or the local default), as a plain DSN."""
    url = make_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _fresh_database() -> str:
    admin = make_url(_server_url()).set(database="postgres").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(admin, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise ConfigError(f"PostgreSQL does not answer at {admin}: {exc}") from None
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{DEMO_DATABASE}"')
    finally:
        await connection.close()
    return (
        make_url(admin)
        .set(drivername="postgresql+asyncpg", database=DEMO_DATABASE)
        .render_as_string(hide_password=False)
    )


async def _drop_database() -> None:
    admin = make_url(_server_url()).set(database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')
    finally:
        await connection.close()


async def _check_redis(url: str) -> None:
    redis = Redis.from_url(url)
    try:
        await redis.ping()
    except OSError as exc:
        raise ConfigError(f"Redis does not answer at {url}: {exc}") from None
    finally:
        await redis.aclose()


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


async def _show_repository(env: dict[str, str], full_name: str) -> None:
    settings = GitHubSettings(
        api_url=env["GITHUB_API_URL"],
        app_id=env["GITHUB_APP_ID"],
        app_private_key_path=Path(env["GITHUB_APP_PRIVATE_KEY_PATH"]),
        org=env["GITHUB_ORG"],
    )
    owner, name = full_name.split("/", 1)
    async with GitHubClient(settings, write_interval_s=0) as github:
        project_file = await github.get_file(owner, name, ".project.yaml")
        listed = await github.request("GET", f"/repos/{owner}/{name}/actions/secrets")
    _say("  .project.yaml:")
    text = project_file.content.decode() if project_file else "(missing)\n"
    for line in text.splitlines():
        _say(f"    | {line}")
    names = [s["name"] for s in listed.json()["secrets"]]
    _say(f"  Actions secrets: {', '.join(names) or '(none)'}")


def _environment(database_url: str, redis_url: str, sandbox_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAME": f"provisioner:demo:{secrets.token_hex(4)}",
        "SECRETS_KEY": generate_secrets_key(),
        "GITHUB_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "GITHUB_APP_ID": "1",
        "GITHUB_APP_PRIVATE_KEY_PATH": str(WORKDIR / "app.pem"),
        "GITHUB_ORG": "acme",
        "WORKER_GITHUB_WRITE_INTERVAL_S": "0",
    }


async def _demo(children: Children) -> int:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    _say("1. PostgreSQL and Redis answer; a fresh demo database, migrated")
    await _check_redis(redis_url)
    database_url = await _fresh_database()
    upgrade_to_head(database_url)
    sandbox_port, api_port = free_port(), free_port()
    env = _environment(database_url, redis_url, sandbox_port)
    python = sys.executable

    _say(f"2. starting the GitHub sandbox ({SANDBOX_LATENCY_MS} ms per call), the API and a worker")
    children.start(
        "sandbox",
        [python, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port),
         "--app-id", "1", "--org", "acme", "--private-key", env["GITHUB_APP_PRIVATE_KEY_PATH"],
         "--latency-ms", str(SANDBOX_LATENCY_MS)],
        env,
    )  # fmt: skip
    await wait_until_up(f"{env['GITHUB_API_URL']}/app", children)
    children.start("api", [python, "-m", "cli.main", "api", "--port", str(api_port)], env)
    children.start("worker", [python, "-m", "cli.main", "worker"], env)
    api_url = f"http://127.0.0.1:{api_port}"
    await wait_until_up(f"{api_url}/readyz", children)

    user_token = await issue_api_token(database_url, role="user", subject="demo-user")
    _say(
        f'3. POST /api/projects/ {{"name": "{PROJECT_NAME}", "secrets": {{"OPENAI_API_KEY": ...}}}}'
    )
    async with ProjectsClient(api_url, user_token) as client:
        posted = time.perf_counter()
        project = await client.create(
            PROJECT_NAME,
            description="Demo project created by provisioner demo",
            config={"language": "python", "template": "langgraph-agent"},
            secrets={"OPENAI_API_KEY": "sk-demo-" + secrets.token_hex(8)},
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
    await _show_repository(env, info["full_name"])
    if minted is not None:
        permissions = ", ".join(f"{k}:{v}" for k, v in sorted(minted["permissions"].items()))
        _say(
            f"6. an agent's token (POST /api/projects/{{id}}/token): {minted['token'][:4]}… "
            f"for {minted['repository']} only ({permissions}), expires {minted['expires_at']}"
        )
    return 0


def run_demo(*, keep_database: bool = False) -> int:
    """Run the demo; returns the exit status (0 when the project became ready)."""
    WORKDIR.mkdir(exist_ok=True)
    configure_logging(level="WARNING", renderer="console")
    try:
        with Children(WORKDIR) as children:
            code = asyncio.run(_demo(children))
    finally:
        if not keep_database:
            asyncio.run(_drop_database())
    _say(
        "7. everything the demo started is stopped"
        + ("" if keep_database else "; demo database dropped")
    )
    return code

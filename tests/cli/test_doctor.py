"""``provisioner doctor`` against the sandbox, PostgreSQL and Redis: each failure it names.

Each test sets the environment the command reads (as an operator would) and runs
the checks in-process; the last ones run the real command.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.doctor import Check, Outcome, diagnose
from cli.harness import APP_ID, ORG, Clock
from sandbox import GitHubSandbox
from sandbox.state import DEFAULT_PERMISSIONS
from shared.db.migrate import alembic_config
from shared.heartbeats import this_worker, write_heartbeat
from shared.projects.models import Project
from tests.db.helpers import new_project
from tests.db_fixtures import temporary_database
from tests.redis_urls import redis_url

pytestmark = pytest.mark.integration

REDIS_URL = redis_url(6)


@pytest.fixture
def queue_name() -> str:
    return f"provisioner-doctor:{uuid.uuid4().hex}"


@pytest.fixture
async def redis(queue_name: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{queue_name}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    sandbox_url: str,
    app_key_file: Path,
    queue_name: str,
) -> pytest.MonkeyPatch:
    """The environment of a healthy deployment (but for a worker): tests change one thing."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "WORKER_", "QUEUE_", "API_", "OPS_", "SECRETS_", "DB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("QUEUE_NAME", queue_name)
    monkeypatch.setenv("GITHUB_API_URL", sandbox_url)
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_PATH", str(app_key_file))
    monkeypatch.setenv("GITHUB_ORG", ORG)
    return monkeypatch


@pytest.fixture
async def worker_alive(redis: Redis, queue_name: str) -> None:
    await write_heartbeat(redis, queue_name, this_worker(10))


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def _failed(checks: list[Check]) -> dict[str, str]:
    return {c.name: c.result for c in checks if c.outcome == Outcome.FAIL}


@pytest.mark.usefixtures("env", "worker_alive")
async def test_a_healthy_deployment_passes_every_check() -> None:
    checks = _by_name(await diagnose())

    assert {name: c.outcome for name, c in checks.items() if c.outcome != Outcome.OK} == {}
    assert "provisioner-sandbox" in checks["github app"].result
    assert f"on {ORG}" in checks["installation"].result
    assert "newest migration" in checks["migrations"].result
    assert "1 live worker" in checks["workers"].result


def _bad_key(kind: str) -> bytes:
    none = serialization.NoEncryption()
    if kind == "garbage":
        return b"not a key"
    if kind == "encrypted":
        encrypted = serialization.BestAvailableEncryption(b"passphrase")
        key = rsa.generate_private_key(65537, 2048)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encrypted
        )
    if kind == "ec":
        elliptic = ec.generate_private_key(ec.SECP256R1())
        return elliptic.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none
        )
    if kind == "small rsa":
        small = rsa.generate_private_key(65537, 1024)
        return small.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none
        )
    public = rsa.generate_private_key(65537, 2048).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)


@pytest.mark.usefixtures("worker_alive")
@pytest.mark.parametrize("kind", ["garbage", "encrypted", "ec", "small rsa", "public"])
async def test_a_key_github_would_not_take_fails_the_key_check(
    env: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    pem = _bad_key(kind)
    path = tmp_path / "bad.pem"
    path.write_bytes(pem)
    env.setenv("GITHUB_APP_PRIVATE_KEY_PATH", str(path))

    checks = await diagnose()

    assert set(_failed(checks)) == {"app key"}
    assert _by_name(checks)["github app"].outcome == Outcome.SKIP
    assert "private key" in _by_name(checks)["app key"].fix


@pytest.mark.usefixtures("worker_alive")
async def test_an_unknown_app_or_another_apps_key_is_refused_by_github(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("GITHUB_APP_ID", "999999")
    unknown = _failed(await diagnose())
    other = tmp_path / "other.pem"
    other.write_bytes(
        rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    env.setenv("GITHUB_APP_ID", str(APP_ID))
    env.setenv("GITHUB_APP_PRIVATE_KEY_PATH", str(other))
    wrong_key = _failed(await diagnose())

    for failed in (unknown, wrong_key):
        assert set(failed) == {"github app"}
        assert failed["github app"].startswith("GET /app answered 401")


@pytest.mark.usefixtures("env", "worker_alive")
async def test_a_clock_off_by_more_than_a_minute_fails(clock: Clock) -> None:
    clock.advance(120)  # GitHub's clock runs two minutes ahead of ours

    checks = await diagnose()

    assert set(_failed(checks)) == {"clock"}
    assert "behind GitHub's" in _by_name(checks)["clock"].result


@pytest.mark.usefixtures("worker_alive")
async def test_no_installation_or_two_without_github_org(
    env: pytest.MonkeyPatch, github_sandbox: GitHubSandbox
) -> None:
    env.delenv("GITHUB_ORG")
    only = _by_name(await diagnose())["installation"]
    second = github_sandbox.add_installation("globex")
    two = _failed(await diagnose())
    env.setenv("GITHUB_ORG", "globex")
    chosen = _by_name(await diagnose())["installation"]
    for installation in github_sandbox.installation_ids:
        github_sandbox.remove_installation(installation)
    env.delenv("GITHUB_ORG")
    none = _failed(await diagnose())

    assert only.outcome == Outcome.OK and "only organization installation" in only.result
    assert set(two) == {"installation"}
    assert "several organizations (acme, globex)" in two["installation"]
    assert chosen.outcome == Outcome.OK and str(second) in chosen.result
    assert set(none) == {"installation"}
    assert "no installation on an organization" in none["installation"]


@pytest.mark.usefixtures("env", "worker_alive")
async def test_a_missing_permission_is_named_and_fails_only_when_needed(
    github_sandbox: GitHubSandbox, db_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    (installation,) = github_sandbox.installation_ids
    granted = {k: v for k, v in DEFAULT_PERMISSIONS.items() if k not in ("secrets", "members")}
    github_sandbox.set_installation_permissions(installation, granted)

    before = await diagnose()
    async with db_sessionmaker() as session, session.begin():
        project = await new_project(session)
        await session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(repository_settings={"teams": {"platform": "push"}})
        )
    after = await diagnose()

    checks = _by_name(before)
    assert checks["permissions: base"].outcome == Outcome.FAIL
    assert "secrets: write" in checks["permissions: base"].result
    assert checks["permissions: teams"].outcome == Outcome.WARN
    assert "members: read" in checks["permissions: teams"].result
    assert _by_name(after)["permissions: teams"].outcome == Outcome.FAIL
    assert "projects asked for it" in _by_name(after)["permissions: teams"].result


@pytest.mark.usefixtures("env", "worker_alive")
async def test_a_database_behind_the_newest_migration_fails(env: pytest.MonkeyPatch) -> None:
    with temporary_database() as url:
        # Alembic runs its own event loop: outside this one.
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0004_token_lifecycle")
        env.setenv("DATABASE_URL", url)

        checks = await diagnose()

    assert set(_failed(checks)) == {"migrations"}
    assert "at migration 0004_token_lifecycle" in _by_name(checks)["migrations"].result
    assert _by_name(checks)["migrations"].fix == "run: provisioner migrate"


@pytest.mark.usefixtures("env")
async def test_no_worker_heartbeat_fails() -> None:
    checks = await diagnose()

    assert set(_failed(checks)) == {"workers"}
    assert "provisioner worker" in _by_name(checks)["workers"].fix


@pytest.mark.usefixtures("env")
async def test_a_setting_that_does_not_parse_stops_the_checks(env: pytest.MonkeyPatch) -> None:
    env.setenv("WORKER_MAX_JOBS", "many")

    checks = await diagnose()

    assert [(c.name, c.outcome) for c in checks] == [("settings", Outcome.FAIL)]
    assert checks[0].result.startswith("WORKER_MAX_JOBS:")


def _doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )


@pytest.mark.usefixtures("env")
async def test_the_command_prints_a_table_or_json_and_exits_1_on_a_failure(
    redis: Redis, queue_name: str
) -> None:
    table = _doctor()
    as_json = _doctor("--json")
    await write_heartbeat(redis, queue_name, this_worker(10))
    healthy = _doctor("--json")

    assert table.returncode == 1
    assert "check" in table.stdout and "how to fix" in table.stdout
    assert "workers" in table.stdout and "FAIL" in table.stdout
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and report["ok"] is False
    assert {c["name"] for c in report["checks"] if c["outcome"] == "fail"} == {"workers"}
    assert healthy.returncode == 0, healthy.stdout
    assert json.loads(healthy.stdout)["ok"] is True

"""The ``provisioner`` command: bad input is one readable line and a non-zero exit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from shared.crypto import hash_api_token
from shared.db.engine import create_engine
from tests.db_fixtures import temporary_database

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH",
                 "SECRETS_KEY", "PROVISIONER_TOKEN", "PROVISIONER_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["worker"], 2, "provisioner: configuration: GITHUB_APP_ID is not set"),
        (["api"], 2, "provisioner: configuration: SECRETS_KEY is not set"),
        (["tokens", "create", "--role", "root", "--subject", "x"], 2, "--role must be one of"),
        (["tokens", "create", "--role", "ops", "--subject", " "], 2, "--subject must not be empty"),
        (["projects", "list"], 2, "no API token"),
        (["projects", "create", "X", "--secret", "NOVALUE", "--token", "t"], 2, "NAME=VALUE"),
        (["projects", "retry", "--token", "t"], 2, "give a project id or --all-failed"),
        (["projects", "show", "x", "--token", "t", "--url", "http://127.0.0.1:1"], 1,
         "cannot reach the API"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in result.output


def test_migrate_then_create_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    with temporary_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        migrated = runner.invoke(app, ["migrate"])
        assert migrated.exit_code == 0, migrated.output
        created = runner.invoke(app, ["tokens", "create", "--role", "ops", "--subject", "alice"])
        assert created.exit_code == 0, created.output
        token = created.stdout.strip()
        assert token.startswith("prv_")

        async def stored() -> list[tuple[str, str, str]]:
            engine = create_engine(url)
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT token_hash, role, subject FROM api_tokens")
                )
                found = [tuple(row) for row in rows]
            await engine.dispose()
            return found

        assert asyncio.run(stored()) == [(hash_api_token(token), "ops", "alice")]


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    result = runner.invoke(app, ["tokens", "create", "--role", "ops", "--subject", "a"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("provisioner: cannot connect")


def test_tokens_list_and_revoke_show_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    with temporary_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        created = runner.invoke(
            app,
            ["tokens", "create", "--role", "service", "--subject", "agent",
             "--expires-in", "90d", "--owner", "alice", "--owner", "bob"],
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        token = created.stdout.strip()
        listed = runner.invoke(app, ["tokens", "list"])
        assert listed.exit_code == 0, listed.output
        assert token not in listed.stdout and hash_api_token(token) not in listed.stdout
        row = listed.stdout.strip().splitlines()[1]
        assert "service" in row and "agent" in row and "alice,bob" in row
        token_id = row.split()[0]
        revoked = runner.invoke(app, ["tokens", "revoke", token_id])
        assert revoked.exit_code == 0, revoked.output
        assert (
            runner.invoke(app, ["tokens", "list"]).stdout.strip().splitlines()[1].split()[-1] != "-"
        )
        unknown = runner.invoke(app, ["tokens", "revoke", "00000000-0000-0000-0000-000000000000"])
        assert unknown.exit_code == 1
        assert len(unknown.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expires-in", "90 days"], "--expires-in"),
        (["--expires-in", "0d"], "--expires-in"),
        (["--owner", "alice"], "--owner limits service tokens only"),
    ],
)
def test_tokens_create_bad_lifetime_or_owner_is_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["tokens", "create", "--role", "user", "--subject", "a", *args])
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr

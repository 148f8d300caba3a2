"""``provisioner``: run the API, the worker, the sandbox or the demo; manage tokens and projects.

Errors end the command with one readable line on stderr and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import httpx
import typer

from shared.errors import ConfigError
from shared.settings import Settings, load_settings

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="provisioner",
    help="Turns 'create a project' into a ready GitHub repository.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tokens_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
projects_app = typer.Typer(help="Projects, through the API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(projects_app, name="projects")
secrets_app = typer.Typer(help="Stored secret values: key rotation.", no_args_is_help=True)
app.add_typer(secrets_app, name="secrets")

ApiUrl = Annotated[str, typer.Option(envvar="PROVISIONER_URL", help="The API's base URL.")]
ApiToken = Annotated[
    str, typer.Option(envvar="PROVISIONER_TOKEN", help="Bearer token for the API.")
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"provisioner: {message}", err=True)
    return typer.Exit(code)


CONFIG_EXIT = 2
"""Exit code of a command that cannot start because a setting is wrong."""


def _settings(*, serving: bool = False, require_github: bool = False) -> Settings:
    """Every setting, checked once; a bad one ends the command with one line and exit 2.

    ``serving``: the API or the worker, which need ``SECRETS_KEY``."""
    try:
        return load_settings(require_github=require_github, require_secrets_key=serving)
    except ConfigError as exc:
        raise _fail(f"configuration: {exc}", CONFIG_EXIT) from None


SANDBOX_EXTRA_MODULES = ("openapi_core", "werkzeug")
"""What the 'sandbox' extra installs; the runtime image has neither."""


def _require_sandbox_extra() -> None:
    """Exit 2 with one line when the sandbox's dependencies are not installed."""
    if any(importlib.util.find_spec(name) is None for name in SANDBOX_EXTRA_MODULES):
        raise _fail("the sandbox needs the 'sandbox' extra: pip install 'provisioner[sandbox]'", 2)


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning known failures into one line and exit code 1."""
    from provisioner_client import ApiError, ProjectFailed, WaitTimedOut

    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except ConfigError as exc:
        raise _fail(f"configuration: {exc}", CONFIG_EXIT) from None
    except ApiError as exc:
        raise _fail(str(exc)) from None
    except (ProjectFailed, WaitTimedOut) as exc:
        raise _fail(str(exc)) from None
    except httpx.TransportError as exc:
        raise _fail(f"cannot reach the API: {type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise _fail(f"cannot connect: {exc}") from None


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Default: API_HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: API_PORT or 8000.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes, one per core (API_WORKERS, 1).")
    ] = None,
) -> None:
    """Serve the REST API."""
    from cli.serve import run_api

    settings = _settings(serving=True)
    given = {"host": host, "port": port, "workers": workers}
    api_section = settings.api.model_copy(update={k: v for k, v in given.items() if v is not None})
    run_api(settings.model_copy(update={"api": api_section}))


@app.command()
def worker(
    check: Annotated[
        bool, typer.Option("--check", help="Liveness probe: exit 0 if this host's worker is alive.")
    ] = False,
) -> None:
    """Run a provisioning worker (arq) until SIGTERM, or probe it with --check."""
    if check:
        from worker.health import worker_is_alive

        redis = _settings().redis
        alive, detail = _run(lambda: worker_is_alive(redis))
        typer.echo(detail)
        raise typer.Exit(0 if alive else 1)
    from cli.serve import run_worker

    run_worker(_settings(serving=True, require_github=True))


@app.command()
def migrate() -> None:
    """Bring the database (DATABASE_URL) to the newest schema."""
    from shared.db.migrate import upgrade_to_head

    database_url = _settings().database.url
    try:
        upgrade_to_head(database_url)
    except OSError as exc:
        raise _fail(f"cannot reach PostgreSQL: {exc}") from None
    typer.echo("database is at the newest migration")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sandbox(ctx: typer.Context) -> None:
    """Serve the GitHub sandbox (arguments go to it; --help lists them)."""
    _require_sandbox_extra()
    from sandbox.cli import main as sandbox_main

    args = list(ctx.args)
    defaults = {
        "--app-id": os.environ.get("GITHUB_APP_ID", "1"),
        "--org": os.environ.get("GITHUB_ORG") or "acme",
        "--private-key": os.environ.get("GITHUB_APP_PRIVATE_KEY_PATH", ".sandbox/app.pem"),
        "--port": "9100",
    }
    for flag, value in defaults.items():
        if flag not in args and "--help" not in args:
            args += [flag, value]
    raise typer.Exit(sandbox_main(args))


@app.command()
def demo(
    keep: Annotated[bool, typer.Option(help="Keep the demo database afterwards.")] = False,
) -> None:
    """The whole flow end to end against the sandbox, printing what happens."""
    _require_sandbox_extra()
    from cli.demo import run_demo

    try:
        code = run_demo(keep_database=keep)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@secrets_app.command("rekey")
def secrets_rekey() -> None:
    """Re-encrypt every stored secret value with the newest key of SECRETS_KEYS."""
    from shared.crypto import cipher_from
    from shared.db.engine import create_engine, create_sessionmaker
    from shared.projects.secret_keys import rekey_secrets

    settings = _settings(serving=True)
    cipher = cipher_from(settings.secrets)

    async def go() -> tuple[int, int]:
        engine = create_engine(settings.database.url, application_name="provisioner-rekey")
        try:
            return await rekey_secrets(create_sessionmaker(engine), cipher)
        finally:
            await engine.dispose()

    rekeyed, stored = _run(go)
    typer.echo(f"re-encrypted {rekeyed} of {stored} stored secret values with key {cipher.key_id}")


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help="user, ops or service")],
    subject: Annotated[str, typer.Option(help="Who the token is for (the owner name).")],
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime, like 90d, 12h or 30m (default: no expiry).")
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option(help="Limit a service token to this owner's projects (repeatable)."),
    ] = None,
) -> None:
    """Create an API token and print it once."""
    from shared.auth.models import TokenRole
    from shared.auth.service import issue_api_token, parse_duration

    if role not in {r.value for r in TokenRole}:
        raise _fail(f"--role must be one of user, ops, service (got {role!r})", 2)
    if not subject.strip():
        raise _fail("--subject must not be empty", 2)
    owners = [o.strip() for o in owner or []]
    if any(not o for o in owners):
        raise _fail("--owner must not be empty", 2)
    if owners and role != TokenRole.SERVICE:
        raise _fail("--owner limits service tokens only (use --role service)", 2)
    try:
        lifetime = parse_duration(expires_in) if expires_in is not None else None
    except ValueError as exc:
        raise _fail(f"--expires-in: {exc}", 2) from None
    database_url = _settings().database.url
    token = _run(
        lambda: issue_api_token(
            database_url,
            role=role,
            subject=subject.strip(),
            expires_in=lifetime,
            owners=owners or None,
        )
    )
    typer.echo(token)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never the token or its hash), oldest first."""
    from shared.auth.service import list_api_tokens

    database_url = _settings().database.url
    tokens = _run(lambda: list_api_tokens(database_url))
    typer.echo(
        f"{'id':<36}  {'role':<7}  {'subject':<20}  {'owners':<20}  "
        f"{'created':<20}  {'expires':<20}  revoked"
    )
    for t in tokens:
        owners = ",".join(t.owners) if t.owners is not None else "*"
        typer.echo(
            f"{t.id}  {t.role:<7}  {t.subject:<20}  {owners:<20}  {_when(t.created_at):<20}  "
            f"{_when(t.expires_at):<20}  {_when(t.revoked_at)}"
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The id `tokens list` shows.")],
) -> None:
    """Revoke an API token: the API answers 401 to it within 5 s."""
    import uuid

    from shared.auth.service import revoke_api_token

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        raise _fail(f"{token_id!r} is not a token id (see `provisioner tokens list`)", 2) from None
    database_url = _settings().database.url
    revoked = _run(lambda: revoke_api_token(database_url, parsed))
    if revoked is None:
        raise _fail(f"no token has id {parsed}", 1)
    typer.echo(f"{revoked.id}  revoked at {_when(revoked.revoked_at)}")


def _client(url: str, token: str) -> Any:
    from provisioner_client import ProjectsClient

    if not token:
        raise _fail("no API token: set PROVISIONER_TOKEN or pass --token", 2)
    return ProjectsClient(url, token)


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


@projects_app.command("create")
def projects_create(
    name: str,
    secret: Annotated[list[str] | None, typer.Option(help="K=V, repeatable.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    wait: Annotated[bool, typer.Option(help="Wait until ready or failed.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 300.0,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Create a project (answers at once; --wait follows it to the end)."""
    secrets: dict[str, str] = {}
    for item in secret or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _fail(f"--secret takes NAME=VALUE (got {item.split('=')[0]!r}...)", 2)
        secrets[key] = value

    async def go() -> dict[str, Any]:
        async with _client(url, token) as client:
            project: dict[str, Any] = await client.create(
                name, description=description, secrets=secrets or None
            )
            if wait:
                project = await client.wait_until_ready(project["id"], timeout_s=timeout)
            return project

    _print(_run(go))


@projects_app.command("list")
def projects_list(
    status: Annotated[
        str | None, typer.Option(help="pending_repo, provisioning, ready, repo_failed")
    ] = None,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """List projects, newest first."""

    async def go() -> list[dict[str, Any]]:
        async with _client(url, token) as client:
            items: list[dict[str, Any]] = await client.list(status=status)
            return items

    for project in _run(go):
        error = project.get("last_error") or {}
        typer.echo(
            f"{project['id']}  {project['status']:<12}  {project['repo_name']:<30}  "
            f"{error.get('code', '')}"
        )


@projects_app.command("show")
def projects_show(
    project_id: str,
    events: Annotated[bool, typer.Option(help="Also print the event history.")] = False,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Show one project (and its events)."""

    async def go() -> dict[str, Any]:
        async with _client(url, token) as client:
            project: dict[str, Any] = await client.get(project_id)
            if events:
                project["events"] = await client.events(project_id)
            return project

    _print(_run(go))


@projects_app.command("retry")
def projects_retry(
    project_id: Annotated[str | None, typer.Argument()] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Every repo_failed project.")
    ] = False,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Re-enqueue a failed (or stuck) project; ops tokens only."""
    if (project_id is None) == (not all_failed):
        raise _fail("give a project id or --all-failed (not both)", 2)

    async def go() -> list[dict[str, Any]]:
        async with _client(url, token) as client:
            if project_id is not None:
                return [await client.retry(project_id)]
            failed = await client.list(status="repo_failed")
            return [await client.retry(p["id"]) for p in failed]

    retried = _run(go)
    for project in retried:
        typer.echo(f"{project['id']}  {project['status']}")
    if all_failed:
        typer.echo(f"{len(retried)} project(s) re-enqueued")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="provisioner")


if __name__ == "__main__":  # pragma: no cover
    main()

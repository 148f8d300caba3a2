"""``provisioner``: run the API, the worker, the sandbox or the demo; manage tokens and projects.

Errors end the command with one readable line on stderr and a non-zero exit.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Annotated, TypeVar

import typer

from cli.common import fail, load_or_exit, run_or_exit
from cli.projects import projects_app
from cli.tokens import secrets_app, tokens_app
from shared.errors import ConfigError

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    name="provisioner",
    help="Turns 'create a project' into a ready GitHub repository.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(tokens_app, name="tokens")
app.add_typer(projects_app, name="projects")
app.add_typer(secrets_app, name="secrets")

ApiToken = Annotated[
    str, typer.Option(envvar="PROVISIONER_TOKEN", help="Bearer token for the API.")
]


SANDBOX_EXTRA_MODULES = ("openapi_core", "werkzeug")
"""What the 'sandbox' extra installs; the runtime image has neither."""


def _require_sandbox_extra() -> None:
    """Exit 2 with one line when the sandbox's dependencies are not installed."""
    if any(importlib.util.find_spec(name) is None for name in SANDBOX_EXTRA_MODULES):
        raise fail("the sandbox needs the 'sandbox' extra: pip install 'provisioner[sandbox]'", 2)


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

    settings = load_or_exit(serving=True)
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

        redis = load_or_exit().redis
        alive, detail = run_or_exit(lambda: worker_is_alive(redis))
        typer.echo(detail)
        raise typer.Exit(0 if alive else 1)
    from cli.serve import run_worker

    run_worker(load_or_exit(serving=True, require_github=True))


@app.command()
def migrate() -> None:
    """Bring the database (DATABASE_URL) to the newest schema."""
    from shared.db.migrate import upgrade_to_head

    database_url = load_or_exit().database.url
    try:
        upgrade_to_head(database_url)
    except OSError as exc:
        raise fail(f"cannot reach PostgreSQL: {exc}") from None
    typer.echo("database is at the newest migration")


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check a deployment before its first project: settings, App key, GitHub, the
    installation's permissions, PostgreSQL, Redis, workers. Exits 1 when a check fails."""
    import asyncio

    from cli.doctor import diagnose, render_json, render_table
    from cli.doctor.model import failed
    from shared.logging import configure_logging
    from shared.settings import LoggingSettings

    configure_logging(LoggingSettings(level="ERROR", format="console"))
    checks = asyncio.run(diagnose())
    typer.echo(render_json(checks) if as_json else render_table(checks))
    raise typer.Exit(1 if failed(checks) else 0)


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
    keep: Annotated[
        bool,
        typer.Option(help="Keep the stack up (the ops console too) until Ctrl-C."),
    ] = False,
    keep_database: Annotated[
        bool, typer.Option(help="Keep the demo database after stopping.")
    ] = False,
) -> None:
    """The whole flow end to end against the sandbox, printing what happens."""
    _require_sandbox_extra()
    from cli.demo import run_demo

    try:
        code = run_demo(keep_database=keep_database, keep_running=keep)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="provisioner")


if __name__ == "__main__":  # pragma: no cover
    main()

"""``provisioner projects ...``: projects through the API (the client SDK)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cli.common import ApiToken, ApiUrl, api_client, fail, print_json, run_or_exit

__all__ = ["projects_app"]

projects_app = typer.Typer(help="Projects, through the API.", no_args_is_help=True)
project_secrets_app = typer.Typer(
    help="A project's Actions secrets (values are never shown).", no_args_is_help=True
)
projects_app.add_typer(project_secrets_app, name="secrets")

_ENTRY_FLAGS = {"variables": ("--variable", "NAME=VALUE"), "teams": ("--team", "SLUG=ROLE")}


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
            raise fail(f"--secret takes NAME=VALUE (got {item.split('=')[0]!r}...)", 2)
        secrets[key] = value

    async def go() -> dict[str, Any]:
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.create(
                name, description=description, secrets=secrets or None
            )
            if wait:
                project = await client.wait_until_ready(project["id"], timeout_s=timeout)
            return project

    print_json(run_or_exit(go))


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
        async with api_client(url, token) as client:
            items: list[dict[str, Any]] = await client.list(status=status)
            return items

    for project in run_or_exit(go):
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
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.get(project_id)
            if events:
                project["events"] = await client.events(project_id)
            return project

    print_json(run_or_exit(go))


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
        raise fail("give a project id or --all-failed (not both)", 2)

    async def go() -> list[dict[str, Any]]:
        async with api_client(url, token) as client:
            if project_id is not None:
                return [await client.retry(project_id)]
            failed = await client.list(status="repo_failed")
            return [await client.retry(p["id"]) for p in failed]

    retried = run_or_exit(go)
    for project in retried:
        typer.echo(f"{project['id']}  {project['status']}")
    if all_failed:
        typer.echo(f"{len(retried)} project(s) re-enqueued")


def _json_option(text: str, flag: str) -> dict[str, Any] | None:
    """``--FLAG JSON``: an object, or ``null`` (remove the key); anything else exits 2."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise fail(f"{flag} is not JSON: {exc}", 2) from None
    if value is not None and not isinstance(value, dict):
        raise fail(f"{flag} takes a JSON object or null", 2)
    return value


def _merge_entries(
    repository: dict[str, Any], key: str, given: list[str], removed: list[str]
) -> None:
    """``--variable NAME=VALUE`` / ``--remove-variable NAME`` (or teams) into ``repository``."""
    if not given and not removed:
        return
    flag, form = _ENTRY_FLAGS[key]
    remove_flag = f"--remove-{flag[2:]}"
    entries = repository.get(key, {})
    if not isinstance(entries, dict):
        raise fail(f"{flag}/{remove_flag} cannot merge into --repository-json's {key}", 2)
    merged: dict[str, Any] = dict(entries)
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise fail(f"{flag} takes {form} (got {name + sep!r}); {remove_flag} removes one", 2)
        merged[name] = value
    for name in removed:
        if name in {item.partition("=")[0] for item in given}:
            raise fail(f"{name!r} is both set ({flag}) and removed ({remove_flag})", 2)
        merged[name] = None
    repository[key] = merged


@projects_app.command("update")
def projects_update(
    project_id: str,
    description: Annotated[str | None, typer.Option(help="The new description.")] = None,
    topic: Annotated[
        list[str] | None, typer.Option(help="Repeatable; replaces every topic.")
    ] = None,
    variable: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE: set one Actions variable; repeatable.")
    ] = None,
    remove_variable: Annotated[
        list[str] | None, typer.Option(help="NAME: remove one Actions variable; repeatable.")
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option(help="SLUG=ROLE (pull, triage, push, maintain, admin); repeatable."),
    ] = None,
    remove_team: Annotated[
        list[str] | None, typer.Option(help="SLUG: remove one team's access; repeatable.")
    ] = None,
    config_json: Annotated[
        str | None, typer.Option(help="A merge-patch of config: a JSON object (null: clear).")
    ] = None,
    repository_json: Annotated[
        str | None,
        typer.Option(help="A merge-patch of repository (the options above go over it)."),
    ] = None,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Change a project (a JSON merge-patch): what is not given stays; GitHub follows."""
    fields: dict[str, Any] = {}
    if description is not None:
        fields["description"] = description
    if config_json is not None:
        fields["config"] = _json_option(config_json, "--config-json")
    if repository_json is not None:
        fields["repository"] = _json_option(repository_json, "--repository-json")
    if topic or variable or remove_variable or team or remove_team:
        if "repository" in fields and fields["repository"] is None:
            raise fail("--repository-json null removes every setting: give no other one", 2)
        repository: dict[str, Any] = dict(fields.get("repository") or {})
        if topic:
            repository["topics"] = list(topic)
        _merge_entries(repository, "variables", variable or [], remove_variable or [])
        _merge_entries(repository, "teams", team or [], remove_team or [])
        fields["repository"] = repository
    if not fields:
        raise fail("nothing to change: see provisioner projects update --help", 2)

    async def go() -> dict[str, Any]:
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.update(project_id, **fields)
            return project

    print_json(run_or_exit(go))


def _stdin_is_a_terminal() -> bool:
    return sys.stdin.isatty()


def _secret_value(name: str) -> str:
    """Typed without echo on a terminal, else stdin less one trailing newline."""
    if _stdin_is_a_terminal():
        typed: str = typer.prompt(
            f"{name} (not shown)", hide_input=True, default="", show_default=False, err=True
        )
        return typed
    value = sys.stdin.read()
    return value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")


@project_secrets_app.command("set")
def secrets_set(
    project_id: str,
    name: str,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Set or rotate one secret; the value is read from stdin, never from the arguments."""
    client = api_client(url, token)
    value = _secret_value(name)
    if not value:
        raise fail(f"the value of {name} is empty: pipe it on stdin or type it at the prompt", 2)

    async def go() -> dict[str, Any]:
        async with client:
            project: dict[str, Any] = await client.set_secret(project_id, name, value)
            return project

    print_json(run_or_exit(go))


@project_secrets_app.command("rm")
def secrets_rm(
    project_id: str,
    name: str,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Remove one secret from the project and from GitHub."""

    async def go() -> dict[str, Any]:
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.remove_secret(project_id, name)
            return project

    print_json(run_or_exit(go))


@projects_app.command("archive")
def projects_archive(
    project_id: str,
    purge: Annotated[
        bool, typer.Option("--purge", help="Ops: delete the repository instead.")
    ] = False,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Archive the project's repository (archiving, then archived; --purge: deleted)."""

    async def go() -> dict[str, Any]:
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.archive(project_id, purge=purge)
            return project

    print_json(run_or_exit(go))


@projects_app.command("reconcile")
def projects_reconcile(
    project_id: str,
    url: ApiUrl = "http://127.0.0.1:8000",
    token: ApiToken = "",
) -> None:
    """Ops: check the repository for drift now and restore it."""

    async def go() -> dict[str, Any]:
        async with api_client(url, token) as client:
            project: dict[str, Any] = await client.reconcile(project_id)
            return project

    print_json(run_or_exit(go))

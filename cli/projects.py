"""``provisioner projects ...``: projects through the API (the client SDK)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.common import ApiToken, ApiUrl, api_client, fail, print_json, run_or_exit

__all__ = ["projects_app"]

projects_app = typer.Typer(help="Projects, through the API.", no_args_is_help=True)


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

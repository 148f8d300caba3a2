"""What every ``provisioner`` command shares: one-line failures, settings, the API's options."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import httpx
import typer

from shared.errors import ConfigError
from shared.settings import Settings, load_settings

__all__ = [
    "CONFIG_EXIT",
    "ApiToken",
    "ApiUrl",
    "api_client",
    "fail",
    "load_or_exit",
    "print_json",
    "run_or_exit",
]

T = TypeVar("T")

ApiUrl = Annotated[str, typer.Option(envvar="PROVISIONER_URL", help="The API's base URL.")]
ApiToken = Annotated[
    str, typer.Option(envvar="PROVISIONER_TOKEN", help="Bearer token for the API.")
]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"provisioner: {message}", err=True)
    return typer.Exit(code)


CONFIG_EXIT = 2
"""Exit code of a command that cannot start because a setting is wrong."""


def load_or_exit(*, serving: bool = False, require_github: bool = False) -> Settings:
    """Every setting, checked once; a bad one ends the command with one line and exit 2.

    ``serving``: the API or the worker, which need ``SECRETS_KEY``."""
    try:
        return load_settings(require_github=require_github, require_secrets_key=serving)
    except ConfigError as exc:
        raise fail(f"configuration: {exc}", CONFIG_EXIT) from None


def run_or_exit(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine, turning known failures into one line and exit code 1."""
    from provisioner_client import ApiError, ProjectFailed, WaitTimedOut

    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except ConfigError as exc:
        raise fail(f"configuration: {exc}", CONFIG_EXIT) from None
    except ApiError as exc:
        raise fail(str(exc)) from None
    except (ProjectFailed, WaitTimedOut) as exc:
        raise fail(str(exc)) from None
    except httpx.TransportError as exc:
        raise fail(f"cannot reach the API: {type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise fail(f"cannot connect: {exc}") from None


def api_client(url: str, token: str) -> Any:
    from provisioner_client import ProjectsClient

    if not token:
        raise fail("no API token: set PROVISIONER_TOKEN or pass --token", 2)
    return ProjectsClient(url, token)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))

"""Shared pieces of the sandbox's control routes: the prefix, JSON errors, JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["PREFIX", "AdminError", "Endpoint", "endpoint", "json_object"]

PREFIX = "/_sandbox"

Endpoint = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    """A refused control request: ``status`` (400 or 404) and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def endpoint(run: Callable[[Request], Awaitable[Response]]) -> Endpoint:
    """Wrap a control endpoint so AdminError, ValueError and KeyError become JSON errors."""

    async def wrapped(request: Request) -> Response:
        try:
            return await run(request)
        except AdminError as exc:
            return JSONResponse({"message": str(exc)}, status_code=exc.status)
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        except LookupError as exc:
            return JSONResponse({"message": f"not found: {exc}"}, status_code=404)

    return wrapped


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body ({} when empty); 400 when it is something else."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise AdminError(400, "the body is not JSON") from exc
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body

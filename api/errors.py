"""The API's one error type and one error shape.

Every error answer is ``{"error": <machine code>, "detail": <sentence>, "field": <path>}``
(``field`` only when one field is at fault): raised
:class:`~shared.errors.RequestRejected`\\ s,
FastAPI's validation errors (malformed JSON and bad query or path parameters become
400), Starlette's ``HTTPException`` (unknown route, wrong method) and unexpected exceptions
(500, no traceback in the body).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import InternalError, RequestRejected

__all__ = ["ErrorBody", "error_response", "error_responses", "install_error_handlers"]

_log = structlog.get_logger(__name__)

_LOCATION_KINDS = frozenset({"body", "query", "path", "header", "cookie"})
_PARAMETER_KINDS = frozenset({"query", "path"})
"""A malformed query or path parameter is a bad request (400); a bad body or header, 422."""


class ErrorBody(BaseModel):
    """What every error answer looks like."""

    error: str = Field(description="Machine-readable code, e.g. `repo_name_in_use`.")
    detail: str = Field(description="A sentence for people.")
    field: str | None = Field(
        default=None, description="Dotted path of the field at fault, when there is one."
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries: each status answers with :class:`ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def error_response(
    status: int,
    error: str,
    detail: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON answer in the error shape (``field`` left out when None)."""
    body = ErrorBody(error=error, detail=detail, field=field)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=dict(headers or {})
    )


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _field_path(loc: Sequence[int | str]) -> str | None:
    """``("body", "secrets", "API_KEY")`` → ``"secrets.API_KEY"``, list items as
    ``repository.topics[2]``; None for the whole body."""
    parts = list(loc)
    if parts and parts[0] in _LOCATION_KINDS:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for a dict key: the key names the field
            path += f".{part}" if path else str(part)
    return path or None


def _message(raw: str) -> str:
    return raw.removeprefix("Value error, ").removeprefix("Assertion failed, ")


async def _rejected(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestRejected)
    headers = dict(exc.headers)
    if exc.retry_after is not None:
        headers.setdefault("Retry-After", str(max(1, math.ceil(exc.retry_after))))
    return error_response(exc.status, exc.code, exc.message, exc.field, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if not errors:
        return error_response(422, "validation_error", "the request is not valid")
    first = errors[0]
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "not valid JSON")
        return error_response(400, "malformed_json", f"the body is not valid JSON: {reason}")
    loc = first.get("loc", ())
    field = _field_path(loc)
    detail = _message(str(first.get("msg", "invalid value")))
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    # Never echo the input back: it may hold secret values.
    if loc and loc[0] in _PARAMETER_KINDS:
        return error_response(400, "invalid_parameter", detail, field)
    return error_response(422, "validation_error", detail, field)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, _code_for(exc.status_code), detail, None, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error(
        "request.unhandled_error",
        method=request.method,
        path=request.url.path,
        error_type=type(exc).__name__,
        exc_info=exc,
    )
    return error_response(500, InternalError.code, "something went wrong on our side")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error ``app`` answers take the one error shape."""
    app.add_exception_handler(RequestRejected, _rejected)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

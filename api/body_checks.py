"""One check of every JSON request body, before FastAPI parses it and before any dependency.

A body is refused (422 ``validation_error`` naming the dotted ``field``) when, anywhere in it:

- objects and arrays nest deeper than :data:`MAX_DEPTH` levels (the body itself is level 1);
  this is found by a scan of the raw bytes, so a body 100,000 levels deep never reaches
  ``json.loads`` and its recursion;
- a string (a value or an object's key) holds a NUL character (PostgreSQL cannot store it)
  or a lone UTF-16 surrogate such as ``"\\ud800"`` (it cannot be encoded as UTF-8);
- a number is not finite (``NaN``, ``Infinity``, ``1e400``) or an integer is too long to read.

A body that is not JSON at all answers 400 ``malformed_json``. The routes of a router built
with ``route_class=CheckedJsonRoute`` get the check; the parsed body is handed on to FastAPI,
which does not parse it again.
"""

from __future__ import annotations

import email.message
import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from shared.errors import RequestRejected

__all__ = ["MAX_DEPTH", "CheckedJsonRoute", "parse_checked_json"]

MAX_DEPTH = 32
"""Objects and arrays nested deeper than this are refused."""

_MAX_PART = 100
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?|[\[\]{},]')
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class _Unreadable:
    """What a number that has no finite value parses to (then refused with its field)."""


_UNREADABLE = _Unreadable()


def _part(raw: object) -> str:
    text = str(raw)[:_MAX_PART]
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _field(path: list[object]) -> str | None:
    return ".".join(_part(part) for part in path) or None


def _refuse(path: list[object], detail: str) -> RequestRejected:
    return RequestRejected(422, "validation_error", detail, field=_field(path))


def _key_of(token: bytes) -> str:
    text = token.rstrip()[:-1].rstrip()  # drop the ':'
    try:
        key = json.loads(text)
    except ValueError:
        return text[1:-1].decode("utf-8", "replace")
    return str(key)


def _check_depth(raw: bytes) -> None:
    """Refuse ``raw`` when it nests deeper than :data:`MAX_DEPTH`, naming where."""
    frames: list[list[object]] = []  # [opening bracket, current key or index]
    for match in _TOKENS.finditer(raw):
        token = match.group()
        first = token[:1]
        if first in (b"{", b"["):
            if len(frames) >= MAX_DEPTH:
                raise _refuse(
                    [frame[1] for frame in frames if frame[1] is not None],
                    f"the body nests objects and arrays deeper than {MAX_DEPTH} levels",
                )
            frames.append([first, None if first == b"{" else 0])
        elif first in (b"}", b"]"):
            if frames:
                frames.pop()
        elif first == b",":
            if frames and frames[-1][0] == b"[":
                index = frames[-1][1]
                frames[-1][1] = (index if isinstance(index, int) else 0) + 1
        elif match.group(1) is not None and frames and frames[-1][0] == b"{":
            frames[-1][1] = _key_of(token)


def _int(text: str) -> int | _Unreadable:
    try:
        return int(text)
    except ValueError:  # longer than Python reads (sys.get_int_max_str_digits)
        return _UNREADABLE


def _check_text(text: str, path: list[object]) -> None:
    found = _BAD_TEXT.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise _refuse(path, "text must not contain NUL characters (\\u0000)")
    raise _refuse(path, "text must not contain lone UTF-16 surrogates (\\ud800-\\udfff)")


def _check_values(value: object, path: list[object]) -> None:
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, [*path, key])
            _check_values(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, [*path, index])
    elif value is _UNREADABLE or (isinstance(value, float) and not math.isfinite(value)):
        raise _refuse(path, "numbers must be finite and at most 4300 digits long")


def parse_checked_json(raw: bytes) -> Any:
    """``raw`` parsed, or a :class:`RequestRejected`: 400 not JSON, 422 a hostile value."""
    _check_depth(raw)
    try:
        parsed = json.loads(raw, parse_int=_int, parse_constant=lambda _name: _UNREADABLE)
    except json.JSONDecodeError as exc:
        raise RequestRejected(
            400, "malformed_json", f"the body is not valid JSON: {exc.msg}"
        ) from None
    except (ValueError, RecursionError):  # not UTF-8; or nesting the scan missed
        raise RequestRejected(
            400, "malformed_json", "the body is not valid JSON: not UTF-8 text"
        ) from None
    _check_values(parsed, [])
    return parsed


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class CheckedJsonRoute(APIRoute):
    """An API route whose JSON body is checked by :func:`parse_checked_json` first."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            if _is_json(request.headers.get("content-type")):
                raw = await request.body()
                if raw:
                    request._json = parse_checked_json(raw)  # FastAPI reads it from here
            return await handler(request)

        return checked

"""GitHub's OpenAPI description: routing of sandbox paths and request/response validation.

The OpenAPI objects are built once per process (``openapi()`` is cached): building
them takes a fraction of a second, validating one request about a millisecond.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = [
    "HOST_URL",
    "Route",
    "body_to_validate",
    "document",
    "match_route",
    "openapi",
    "request_violation",
    "response_errors",
    "routes",
]

HOST_URL = "https://api.github.com"
_SPEC_FILE = "rest-api-subset.json"


@dataclass(frozen=True)
class Route:
    """One operation of the description: ``method`` (upper case), ``pattern``, its regex."""

    method: str
    pattern: str
    operation_id: str
    regex: re.Pattern[str] = field(compare=False)


def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    for i, part in enumerate(re.split(r"\{(\w+)\}", pattern)):
        if i % 2 == 0:
            out += re.escape(part)
        else:  # ``{path}`` (a file path) may span slashes, other parameters not
            out += f"(?P<{part}>.+)" if part == "path" else f"(?P<{part}>[^/]+)"
    return re.compile(out)


@cache
def document() -> dict[str, Any]:
    """The vendored description as JSON (do not change it)."""
    text = resources.files("sandbox").joinpath("openapi", _SPEC_FILE).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def openapi() -> OpenAPI:
    """The parsed description, built once per process."""
    return OpenAPI.from_dict(document())


@cache
def routes() -> tuple[Route, ...]:
    """Every operation of the description, fewest path parameters first.

    So a literal segment wins over a parameter (``.../secrets/public-key`` before
    ``.../secrets/{secret_name}``) whatever the order of the file.
    """
    found = []
    for pattern, item in document()["paths"].items():
        for method, op in item.items():
            if method in {"get", "put", "post", "patch", "delete", "head"}:
                found.append(Route(method.upper(), pattern, op["operationId"], _regex(pattern)))
    return tuple(sorted(found, key=lambda r: r.pattern.count("{")))


def match_route(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    """The operation for ``method`` and ``path`` and its path parameters.

    Returns ``(None, {})`` when no path matches and ``(None, params)`` when the
    path exists but not with this method.
    """
    path_params: dict[str, str] | None = None
    for route in routes():
        m = route.regex.fullmatch(path)
        if m is None:
            continue
        if route.method == method.upper():
            return route, m.groupdict()
        path_params = m.groupdict()
    return None, path_params or {}


_INTERNAL_VISIBILITY = frozenset({"repos/create-in-org", "repos/update"})
_PROPERTY_VALUES = "repos/custom-properties-for-repos-create-or-update-repository-values"


def body_to_validate(operation: str, parsed: Any, raw: bytes) -> bytes:
    """The request body as validated: ``raw``, but for two things GitHub accepts.

    - ``visibility: internal`` on create and PATCH: GitHub Enterprise Cloud's description
      has it (the handler refuses it outside an enterprise); validated without it.
    - ``value: null`` in custom property values: the operation's text says null unsets
      a value, but its schema puts ``nullable`` beside ``oneOf``, which OpenAPI 3.0.3
      ignores; validated as an empty string.
    """
    if not isinstance(parsed, dict):
        return raw
    if operation in _INTERNAL_VISIBILITY and parsed.get("visibility") == "internal":
        return json.dumps({k: v for k, v in parsed.items() if k != "visibility"}).encode()
    items = parsed.get("properties")
    if operation == _PROPERTY_VALUES and isinstance(items, list):
        fixed = [
            {**i, "value": ""} if isinstance(i, dict) and i.get("value", 0) is None else i
            for i in items
        ]
        return json.dumps({**parsed, "properties": fixed}).encode()
    return raw


class _Request:
    """A request as openapi-core's ``Request`` protocol wants it."""

    host_url = HOST_URL

    def __init__(
        self, route: Route, path: str, params: Mapping[str, str], query: Any, body: bytes | None
    ) -> None:
        self.method = route.method.lower()
        self.path = path
        self.path_pattern = route.pattern
        self.body = body
        self.content_type = "application/json"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(), path=dict(params)
        )


class _Response:
    """A response as openapi-core's ``Response`` protocol wants it."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self.status_code = status
        self.headers = Headers(list(headers.items()))
        self.content_type = self.headers.get("content-type", "application/json").split(";")[0]
        self.data = data


def _describe(exc: BaseException, *, github_words: bool = True) -> str:
    """A readable line for an openapi-core validation error (GitHub's wording if asked)."""
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if schema_errors:
        lines = []
        for err in schema_errors:
            location = "/".join(["properties", *(str(p) for p in err.absolute_path)])
            if not github_words:
                lines.append(f"{location}: {err.message}")
            elif err.validator == "required":
                missing = re.search(r"'([^']+)' is a required property", err.message)
                name = missing.group(1) if missing else err.message
                lines.append(f'"{name}" wasn\'t supplied.')
            else:
                lines.append(f"For '{location}', {err.message}.")
        return " ".join(lines)
    if cause is not None and str(cause):
        return f"{exc} ({cause})"
    return str(exc)


def request_violation(
    route: Route,
    path: str,
    params: Mapping[str, str],
    query: list[tuple[str, str]],
    body: bytes | None,
) -> str | None:
    """Why the request breaks the description (query, path parameters, JSON body), or None."""
    errors = list(openapi().iter_request_errors(_Request(route, path, params, query, body)))
    if not errors:
        return None
    return "; ".join(_describe(e) for e in errors)


def response_errors(
    method: str, path: str, status: int, headers: Mapping[str, str], body: bytes
) -> list[str]:
    """Why a response breaks the description for ``method path`` (empty when it conforms)."""
    route, params = match_route(method, path)
    if route is None:
        return [f"{method} {path} is not an operation of the description"]
    request = _Request(route, path, params, [], None)
    response = _Response(status, headers, body)
    errors = openapi().iter_response_errors(request, response)
    return [_describe(e, github_words=False) for e in errors]

"""HTTP twins of :mod:`sandbox.drift`, under ``/_sandbox/repos/{owner}/{repo}``.

Each answers 204 (files: 200 ``{"commit": sha}``), 400 for a refused value, 404 for
an unknown thing:

- ``PATCH ""`` ``{field: value}``: :meth:`~sandbox.drift.Drift.edit_repository`
  (``{"archived": true}`` archives); ``DELETE ""``: delete the repository
- ``PUT /topics`` ``{"names": [...]}``
- ``PUT``/``DELETE /teams/{team_slug}`` ``{"permission": role}``
- ``PUT``/``DELETE /collaborators/{username}`` ``{"permission": role}``
- ``PUT``/``DELETE /variables/{name}`` ``{"value": text}``
- ``PATCH``/``DELETE /rulesets/{ruleset_id}`` ``{field: value}``
- ``PUT``/``DELETE /branches/{branch}/protection`` (the PUT body as GitHub takes it)
- ``DELETE /environments/{environment_name}``
- ``PATCH /properties`` ``{name: value or null}``
- ``PUT``/``DELETE /files/{path}`` ``{"content": text, "message": optional}``
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.control import PREFIX, AdminError, Endpoint, endpoint, json_object

if TYPE_CHECKING:
    from sandbox.core import GitHubSandbox

__all__ = ["drift_routes"]

_REPO = PREFIX + "/repos/{owner}/{repo}"
_Change = Callable[["GitHubSandbox", str, str, dict[str, str], dict[str, Any], str], Any]


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise AdminError(400, f"{key} must be a string")
    return value


def _ruleset_id(params: dict[str, str]) -> int:
    try:
        return int(params["ruleset_id"])
    except ValueError as exc:
        raise AdminError(404, "no such ruleset") from exc


def _repo_level(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    if m == "DELETE":
        sb.delete_repository(o, r)
    else:
        sb.edit_repository(o, r, **b)


def _topics(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    names = b.get("names")
    if not isinstance(names, list):
        raise AdminError(400, "names must be a list")
    sb.set_topics(o, r, names)


def _team(sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str) -> None:
    sb.set_team_access(o, r, p["team_slug"], None if m == "DELETE" else _string(b, "permission"))


def _person(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    role = None if m == "DELETE" else _string(b, "permission")
    sb.set_collaborator(o, r, p["username"], role)


def _variable(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    sb.set_variable(o, r, p["name"], None if m == "DELETE" else _string(b, "value"))


def _ruleset(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    if m == "DELETE":
        sb.delete_ruleset(o, r, _ruleset_id(p))
    else:
        sb.edit_ruleset(o, r, _ruleset_id(p), **b)


def _protection(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    sb.set_branch_protection(o, r, p["branch"], None if m == "DELETE" else b)


def _environment(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    sb.delete_environment(o, r, p["environment_name"])


def _properties(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> None:
    sb.set_property_values(o, r, b)


def _file(
    sb: GitHubSandbox, o: str, r: str, p: dict[str, str], b: dict[str, Any], m: str
) -> dict[str, str]:
    message = b.get("message")
    if message is not None and not isinstance(message, str):
        raise AdminError(400, "message must be a string")
    if m == "DELETE":
        commit = sb.delete_file(o, r, p["path"], message)
    else:
        commit = sb.write_file(o, r, p["path"], _string(b, "content"), message)
    return {"commit": commit.sha}


def _route(sb: GitHubSandbox, suffix: str, change: _Change, methods: list[str]) -> Route:
    async def run(request: Request) -> Response:
        params = dict(request.path_params)
        owner, repo = params.pop("owner"), params.pop("repo")
        body = await json_object(request)
        answer = change(sb, owner, repo, params, body, request.method)
        if answer is None:
            return Response(status_code=204)
        return JSONResponse(answer)

    wrapped: Endpoint = endpoint(run)
    return Route(_REPO + suffix, wrapped, methods=methods)


def drift_routes(sb: GitHubSandbox) -> list[BaseRoute]:
    """The behind-the-back routes, bound to ``sb``."""
    return [
        _route(sb, "", _repo_level, ["PATCH", "DELETE"]),
        _route(sb, "/topics", _topics, ["PUT"]),
        _route(sb, "/teams/{team_slug}", _team, ["PUT", "DELETE"]),
        _route(sb, "/collaborators/{username}", _person, ["PUT", "DELETE"]),
        _route(sb, "/variables/{name}", _variable, ["PUT", "DELETE"]),
        _route(sb, "/rulesets/{ruleset_id}", _ruleset, ["PATCH", "DELETE"]),
        _route(sb, "/branches/{branch}/protection", _protection, ["PUT", "DELETE"]),
        _route(sb, "/environments/{environment_name}", _environment, ["DELETE"]),
        _route(sb, "/properties", _properties, ["PATCH"]),
        _route(sb, "/files/{path:path}", _file, ["PUT", "DELETE"]),
    ]

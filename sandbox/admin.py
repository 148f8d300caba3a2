"""The sandbox's own control surface over HTTP, under ``/_sandbox/`` (never GitHub's).

Routes here are not GitHub requests: they are not recorded, validated, authenticated
or rate-limited. Errors answer ``{"message": ...}`` with 400 (bad input) or 404.

- ``GET /_sandbox/stats``, ``POST /_sandbox/stats/reset``: rate-limit counters.
- ``GET /_sandbox/faults``, ``PATCH /_sandbox/faults`` ``{field: value}``: fault settings.
- ``POST /_sandbox/invitations/{invitation_id}/accept``: accept as the invitee would.
- ``/_sandbox/repos/{owner}/{repo}/...``: behind-the-back changes (:mod:`sandbox.admin_drift`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.admin_drift import drift_routes
from sandbox.control import PREFIX, AdminError, endpoint, json_object

if TYPE_CHECKING:
    from sandbox.core import GitHubSandbox

__all__ = ["admin_routes"]


def _faults_json(sb: GitHubSandbox) -> dict[str, Any]:
    return dataclasses.asdict(sb.faults)


def _patch_faults(sb: GitHubSandbox, changes: dict[str, Any]) -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(sb.faults)}
    for name, value in changes.items():
        if name not in defaults:
            raise AdminError(400, f"unknown fault {name!r}")
        nullable = defaults[name] is None
        if not (value is None and nullable) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise AdminError(400, f"{name} must be a number" + (" or null" if nullable else ""))
    for name, value in changes.items():
        setattr(sb.faults, name, value)


def admin_routes(sb: GitHubSandbox) -> list[BaseRoute]:
    """Every control route, bound to ``sb``."""

    @endpoint
    async def stats(request: Request) -> Response:
        return JSONResponse(sb.stats.as_json())

    @endpoint
    async def reset_stats(request: Request) -> Response:
        sb.reset_stats()
        return Response(status_code=204)

    @endpoint
    async def faults(request: Request) -> Response:
        if request.method == "PATCH":
            _patch_faults(sb, await json_object(request))
        return JSONResponse(_faults_json(sb))

    @endpoint
    async def accept(request: Request) -> Response:
        try:
            invitation_id = int(request.path_params["invitation_id"])
        except ValueError as exc:
            raise AdminError(404, "no such invitation") from exc
        sb.accept_invitation(invitation_id)
        return Response(status_code=204)

    @endpoint
    async def unknown(request: Request) -> Response:
        raise AdminError(404, f"no control route {request.method} {request.url.path}")

    return [
        Route(f"{PREFIX}/stats", stats, methods=["GET"]),
        Route(f"{PREFIX}/stats/reset", reset_stats, methods=["POST"]),
        Route(f"{PREFIX}/faults", faults, methods=["GET", "PATCH"]),
        Route(f"{PREFIX}/invitations/{{invitation_id}}/accept", accept, methods=["POST"]),
        *drift_routes(sb),
        Route(
            PREFIX + "/{rest:path}",
            unknown,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
    ]

"""``GET /ops/live``: server-sent events, one ``changed`` each time any project changes.

Fed by :meth:`api.changes.ProjectChanges.subscribe_all` (PostgreSQL's
``NOTIFY project_changed``). Each event's id is the fleet version, so a browser
that reconnects (``Last-Event-ID``) or a page rendered at version ``since`` is
told at once if it missed a change. Changes within :data:`COALESCE_S` of an
event are sent as one; a comment every :data:`KEEPALIVE_S` notices a browser
gone. A stream lasts ``OpsConfig.live_stream_s`` and the browser reconnects
after :data:`RECONNECT_MS`, so a stopping API process never waits long on one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from api.changes import ProjectChanges
from api.deps import ResourcesDep
from api.ops.auth import OperatorDep
from api.ops.render import SECURITY_HEADERS

__all__ = ["COALESCE_S", "KEEPALIVE_S", "RECONNECT_MS", "router"]

router = APIRouter(prefix="/ops", include_in_schema=False)

COALESCE_S = 0.5
KEEPALIVE_S = 5.0
RECONNECT_MS = 1000


def _changed(version: str) -> str:
    return f"id: {version}\nevent: changed\ndata: {version}\n\n"


async def _events(
    changes: ProjectChanges, since: str | None, duration_s: float
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s
    yield f"retry: {RECONNECT_MS}\n\n"
    with changes.subscribe_all() as event:
        if since is not None and since != changes.fleet_version:
            yield _changed(changes.fleet_version)
        while (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(event.wait(), min(left, KEEPALIVE_S))
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            # Let a burst of changes (one job's steps) settle into one event.
            await asyncio.sleep(min(COALESCE_S, max(0.0, deadline - loop.time())))
            event.clear()
            yield _changed(changes.fleet_version)


@router.get("/live")
async def live(request: Request, _operator: OperatorDep, resources: ResourcesDep) -> Response:
    """The change stream of the console's pages (``text/event-stream``)."""
    assert resources.ops is not None
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    if resources.changes is None:  # no listener in this process: nothing will ever be sent
        return Response(status_code=204, headers=headers)
    since = request.headers.get("last-event-id") or request.query_params.get("since")
    return StreamingResponse(
        _events(resources.changes, since, resources.ops.live_stream_s),
        media_type="text/event-stream",
        headers=headers,
    )

"""``POST /api/github/webhooks``: GitHub tells us a repository changed; we reconcile it.

Not token-authenticated: the body's HMAC signature (``GITHUB_WEBHOOK_SECRET``) is the
proof it comes from GitHub. Replays (the same ``X-GitHub-Delivery``) are ignored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request

from api.deps import JobsDep, ResourcesDep, SessionDep
from api.errors import error_responses
from shared.errors import RequestRejected
from shared.projects import after_ready
from shared.webhooks import WATCHED_EVENTS, first_delivery, repository_id_of, signature_valid

__all__ = ["router"]

router = APIRouter(prefix="/api/github", tags=["webhooks"])
_log = structlog.get_logger(__name__)


@router.post(
    "/webhooks",
    status_code=202,
    responses=error_responses(400, 401, 413, 422, 503),
    summary="GitHub webhook deliveries (signed with GITHUB_WEBHOOK_SECRET)",
)
async def receive(
    request: Request,
    resources: ResourcesDep,
    session: SessionDep,
    jobs: JobsDep,
    event: Annotated[str | None, Header(alias="X-GitHub-Event")] = None,
    delivery: Annotated[str | None, Header(alias="X-GitHub-Delivery")] = None,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> dict[str, Any]:
    """``{"outcome": "reconciling" | "ignored" | "replayed", ...}``."""
    secret = resources.webhook_secret
    if secret is None:
        raise RequestRejected(503, "webhooks_not_configured", "GITHUB_WEBHOOK_SECRET is not set")
    body = await request.body()
    if not signature_valid(secret.get_secret_value().encode(), body, signature):
        raise RequestRejected(
            401, "webhook_signature_invalid", "X-Hub-Signature-256 does not sign this body"
        )
    if not delivery or not event:
        raise RequestRejected(
            400, "invalid_parameter", "X-GitHub-Delivery and X-GitHub-Event are required"
        )
    if not await first_delivery(resources.queue, resources.fair.queue_name, delivery):
        return {"outcome": "replayed", "delivery": delivery}
    try:
        payload = json.loads(body)
    except ValueError:
        raise RequestRejected(400, "malformed_json", "the delivery is not JSON") from None
    repo_id = repository_id_of(payload) if isinstance(payload, dict) else None
    if event not in WATCHED_EVENTS or repo_id is None:
        return {"outcome": "ignored", "delivery": delivery}
    action = payload.get("action")
    project = await after_ready.reconcile_for_repository(
        session, repo_id, event=event, action=action if isinstance(action, str) else None
    )
    if project is None:
        return {"outcome": "ignored", "delivery": delivery}
    jobs.add_maintenance(project.id)
    _log.info("webhook.reconcile", github_event=event, delivery=delivery)
    return {"outcome": "reconciling", "delivery": delivery, "project_id": str(project.id)}

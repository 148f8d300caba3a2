"""GET /rate_limit."""

from __future__ import annotations

from sandbox.context import Ctx, Reply

__all__ = ["get_rate_limit"]


def get_rate_limit(ctx: Ctx) -> Reply:
    """GET /rate_limit: the caller's core window (this request does not count)."""
    window = ctx.state.limiter.peek(ctx.rate_key, ctx.state.clock())
    core = {
        "limit": window.limit,
        "used": window.used,
        "remaining": window.remaining,
        "reset": window.reset,
    }
    reset = int(ctx.state.clock()) + 60
    search = {"limit": 30, "used": 0, "remaining": 30, "reset": reset}
    graphql = {"limit": 5000, "used": 0, "remaining": 5000, "reset": window.reset}
    body = {"resources": {"core": core, "search": search, "graphql": graphql}, "rate": core}
    return Reply(200, body)

"""Rendering the console's pages: the Jinja2 environment, its filters, the headers of every page.

Templates autoescape everything; the pages load only their own script and
style (the Content-Security-Policy says so), and no page is cached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

__all__ = [
    "SECURITY_HEADERS",
    "STATIC_DIR",
    "ago",
    "page",
    "redirect",
    "templates",
]

STATIC_DIR = Path(__file__).parent / "static"
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def ago(value: datetime | float | None, now: datetime | None = None) -> str:
    """``3 min``, ``2 h 5 min``, ``4 d``: how long ago ``value`` (a time or epoch seconds) was."""
    if value is None:
        return "—"
    when = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    seconds = max(0, int(((now or datetime.now(UTC)) - when).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d"


def _timestamp(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


templates.env.filters["ago"] = ago
templates.env.filters["timestamp"] = _timestamp
templates.env.filters["pretty_json"] = _pretty_json


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered with ``context`` (and ``request``), with :data:`SECURITY_HEADERS`."""
    response = templates.TemplateResponse(
        request, template, dict(context or {}), status_code=status
    )
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    return response


def redirect(url: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """A 303 to ``url`` (after a form: the browser GETs it)."""
    response = RedirectResponse(url, status_code=303)
    response.headers.update({**SECURITY_HEADERS, **(headers or {})})
    return response

"""Opaque pagination cursors: URL-safe base64 of a small JSON array.

Clients must treat them as opaque; a cursor that does not decode is a 400 on ``cursor``.
"""

from __future__ import annotations

import binascii
import json
import uuid
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime
from typing import Any

from shared.errors import RequestRejected
from shared.projects.repository import Cursor

__all__ = [
    "decode_event_cursor",
    "decode_project_cursor",
    "encode_event_cursor",
    "encode_project_cursor",
]

_PROJECTS = "p"
_EVENTS = "e"


def _encode(parts: list[Any]) -> str:
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _invalid() -> RequestRejected:
    return RequestRejected(
        400,
        "invalid_cursor",
        "the cursor is not one this API handed out; start again without it",
        field="cursor",
    )


def _decode(cursor: str, kind: str) -> list[Any]:
    try:
        raw = urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if not isinstance(parts, list) or not parts or parts[0] != kind:
        raise _invalid()
    return parts[1:]


def encode_project_cursor(after: Cursor) -> str:
    """The cursor after the project at ``(created_at, id)``."""
    created_at, project_id = after
    return _encode([_PROJECTS, created_at.isoformat(), str(project_id)])


def decode_project_cursor(cursor: str) -> Cursor:
    """``(created_at, id)`` from a projects cursor, or a 400 :class:`RequestRejected`."""
    parts = _decode(cursor, _PROJECTS)
    if len(parts) != 2 or not all(isinstance(part, str) for part in parts):
        raise _invalid()
    try:
        created_at_text, id_text = parts
        created_at = datetime.fromisoformat(created_at_text)
        project_id = uuid.UUID(id_text)
    except ValueError:
        raise _invalid() from None
    if created_at.tzinfo is None:
        raise _invalid()
    return created_at, project_id


def encode_event_cursor(after_id: int) -> str:
    """The cursor after the event with id ``after_id``."""
    return _encode([_EVENTS, after_id])


def decode_event_cursor(cursor: str) -> int:
    """The event id from an events cursor, or a 400 :class:`RequestRejected`."""
    parts = _decode(cursor, _EVENTS)
    if len(parts) != 1 or type(parts[0]) is not int or not 0 <= parts[0] < 2**63:
        raise _invalid()
    return int(parts[0])

"""Conditional requests: does an ``If-None-Match`` header match an ETag (weak comparison)."""

from __future__ import annotations

__all__ = ["if_none_match_matches"]


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """Whether ``header`` (a list of ETags, or ``*``) names ``etag`` (RFC 9110 §13.1.2)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in header.split(","))

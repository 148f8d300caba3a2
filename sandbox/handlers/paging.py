"""GitHub-style pagination: ``per_page``/``page`` and the ``Link`` header."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

__all__ = ["paginate"]

T = TypeVar("T")


def paginate(
    items: list[T], query: dict[str, str], url: str, *, default: int = 30, maximum: int = 100
) -> tuple[list[T], dict[str, str]]:
    """The requested page of ``items`` and a ``Link`` header (when there are several pages).

    ``per_page`` defaults to ``default`` and is capped at ``maximum``.
    """
    per_page = min(max(int(query.get("per_page", str(default))), 1), maximum)
    page = max(int(query.get("page", "1")), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1:
        return chunk, {}

    def link(number: int, rel: str) -> str:
        return f'<{url}?{urlencode({"per_page": per_page, "page": number})}>; rel="{rel}"'

    links = []
    if page > 1:
        links += [link(min(page - 1, last), "prev"), link(1, "first")]
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    return chunk, {"link": ", ".join(links)} if links else {}

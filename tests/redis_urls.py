"""Where tests find Redis: 127.0.0.1, port ``TEST_REDIS_PORT`` (6379 unless set).

Tests flush their databases, so two checkouts testing at once each need a Redis
of their own: ``TEST_REDIS_PORT=6380 make test``.
"""

from __future__ import annotations

import os

__all__ = ["redis_url"]

_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def redis_url(db: int) -> str:
    """The URL of test Redis database ``db``."""
    return f"redis://127.0.0.1:{_PORT}/{db}"

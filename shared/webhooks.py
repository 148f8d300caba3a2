"""GitHub webhook deliveries: their signature, their replays, the repository they are about.

GitHub signs each delivery's body with the webhook secret (HMAC-SHA256, header
``X-Hub-Signature-256: sha256=<hex>``) and names it with ``X-GitHub-Delivery``
(a GUID, the same when a delivery is redelivered).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

__all__ = [
    "DELIVERY_MEMORY_S",
    "WATCHED_EVENTS",
    "first_delivery",
    "repository_id_of",
    "sign",
    "signature_valid",
]

WATCHED_EVENTS = frozenset(
    {"repository", "repository_ruleset", "member", "team", "custom_property_values"}
)
"""Events that may mean a managed setting changed: each reconciles its repository's project."""
DELIVERY_MEMORY_S = 3 * 24 * 3600
"""How long a delivery id is remembered (GitHub redelivers for up to 3 days)."""
_PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` (compared in constant time)."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


async def first_delivery(redis: Redis, prefix: str, delivery_id: str) -> bool:
    """True the first time ``delivery_id`` is seen; a replay answers False."""
    key = f"{prefix}:webhook-delivery:{delivery_id[:100]}"
    return bool(await redis.set(key, b"1", nx=True, ex=DELIVERY_MEMORY_S))


def repository_id_of(payload: Mapping[str, Any]) -> int | None:
    """The id of the repository a delivery is about (``None``: not about one)."""
    repository = payload.get("repository")
    if isinstance(repository, Mapping):
        value = repository.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None

"""Looked-up API tokens are trusted for a few seconds, then asked about again."""

from __future__ import annotations

from shared.auth.models import TokenRole
from shared.auth.principal import Principal, PrincipalCache


def test_entries_expire_after_their_ttl() -> None:
    now = [100.0]
    cache = PrincipalCache(ttl_s=5, clock=lambda: now[0])
    alice = Principal(role=TokenRole.USER, subject="alice")
    cache.put("h", alice)
    now[0] += 4.9
    assert cache.get("h") == alice
    now[0] += 0.2
    assert cache.get("h") is None  # a revoked token stops working within the TTL
    assert cache.get("unknown") is None


def test_cache_is_bounded() -> None:
    cache = PrincipalCache(max_entries=3)
    for n in range(10):
        cache.put(f"h{n}", Principal(role=TokenRole.SERVICE, subject=str(n)))
    assert cache.get("h9") is not None
    assert sum(cache.get(f"h{n}") is not None for n in range(10)) <= 3

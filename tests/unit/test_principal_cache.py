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


def test_an_entry_never_outlives_the_tokens_expiry() -> None:
    from datetime import UTC, datetime

    now = [100.0]
    wall = [1_800_000_000.0]
    cache = PrincipalCache(ttl_s=5, clock=lambda: now[0], wall_clock=lambda: wall[0])
    service = Principal(role=TokenRole.SERVICE, subject="svc")
    cache.put("h", service, expires_at=datetime.fromtimestamp(wall[0] + 2, UTC))
    now[0] += 1.9
    assert cache.get("h") == service
    now[0] += 0.2
    assert cache.get("h") is None  # expired after 2 s, not 5
    cache.put("gone", service, expires_at=datetime.fromtimestamp(wall[0] - 1, UTC))
    assert cache.get("gone") is None


def test_a_recheck_trusts_only_a_recent_lookup() -> None:
    now = [100.0]
    cache = PrincipalCache(ttl_s=5, clock=lambda: now[0])
    alice = Principal(role=TokenRole.USER, subject="alice")
    cache.put("h", alice)
    now[0] += 2.0
    assert cache.get("h", max_age_s=2.5) == alice
    now[0] += 1.0
    assert cache.get("h", max_age_s=2.5) is None
    assert cache.get("h") == alice


def test_owner_limited_service_principal_sees_only_its_owners() -> None:
    limited = Principal(role=TokenRole.SERVICE, subject="svc", owners=frozenset({"bob", "alice"}))
    assert not limited.sees_all
    assert limited.owner_filter() == ("alice", "bob")
    assert limited.can_see_owned_by("alice")
    assert not limited.can_see_owned_by("carol")
    unlimited = Principal(role=TokenRole.SERVICE, subject="svc")
    assert unlimited.sees_all and unlimited.owner_filter() is None

"""Installation tokens: reuse, refresh before expiry, one mint under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.github.token_cache import InstallationToken, TokenCache


class Minter:
    def __init__(self, clock: list[float]) -> None:
        self.calls = 0
        self.clock = clock
        self.gate: asyncio.Event | None = None
        self.fail_next = False

    async def __call__(self) -> InstallationToken:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("mint failed")
        expires = datetime.fromtimestamp(self.clock[0] + 3600, tz=UTC)
        return InstallationToken(token=f"ghs_{self.calls}", expires_at=expires)


@pytest.fixture
def clock() -> list[float]:
    return [1_700_000_000.0]


async def test_token_is_reused(clock: list[float]) -> None:
    minter = Minter(clock)
    cache = TokenCache(minter, clock=lambda: clock[0])
    first = await cache.get()
    clock[0] += 3600 - 301
    assert await cache.get() is first
    assert minter.calls == 1


async def test_token_is_refreshed_five_minutes_before_expiry(clock: list[float]) -> None:
    minter = Minter(clock)
    cache = TokenCache(minter, clock=lambda: clock[0])
    first = await cache.get()
    clock[0] += 3600 - 299
    second = await cache.get()
    assert second is not first
    assert second.token == "ghs_2"


async def test_concurrent_callers_share_one_mint(clock: list[float]) -> None:
    minter = Minter(clock)
    minter.gate = asyncio.Event()
    cache = TokenCache(minter, clock=lambda: clock[0])
    waiters = [asyncio.ensure_future(cache.get()) for _ in range(50)]
    await asyncio.sleep(0)  # let every waiter reach the cache
    minter.gate.set()
    tokens = await asyncio.gather(*waiters)
    assert minter.calls == 1
    assert {t.token for t in tokens} == {"ghs_1"}


async def test_failed_mint_is_not_cached(clock: list[float]) -> None:
    minter = Minter(clock)
    minter.fail_next = True
    cache = TokenCache(minter, clock=lambda: clock[0])
    with pytest.raises(RuntimeError):
        await cache.get()
    assert (await cache.get()).token == "ghs_2"


async def test_invalidate_only_drops_the_named_token(clock: list[float]) -> None:
    minter = Minter(clock)
    cache = TokenCache(minter, clock=lambda: clock[0])
    first = await cache.get()
    cache.invalidate(first)
    second = await cache.get()
    cache.invalidate(first)  # a stale invalidation leaves the new one alone
    assert await cache.get() is second


def test_repr_hides_the_token() -> None:
    token = InstallationToken(token="ghs_secret", expires_at=datetime.now(UTC))
    assert "ghs_secret" not in repr(token)

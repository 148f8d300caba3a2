"""Fixtures for the budget's tests: the real Redis (db 14), a fresh key prefix per test.

Nothing here flushes a database: each test deletes the keys under its own prefix.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from shared.budget import BudgetConfig
from tests.budget.fleet import REDIS_URL

MakeConfig = Callable[..., BudgetConfig]


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own (with a hash tag, like the default)."""
    return f"{{budget-test-{secrets.token_hex(6)}}}:"


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    """A client of Redis db 14; the test's keys are deleted afterwards."""
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def make_config(prefix: str) -> MakeConfig:
    """``BudgetConfig`` under this test's prefix, with the given overrides."""

    def make(**overrides: Any) -> BudgetConfig:
        return BudgetConfig(key_prefix=prefix, **overrides)

    return make

"""The async engine, the session factory, and the unit-of-work scope around a session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from shared.settings import normalize_database_url

__all__ = [
    "autocommit_scope",
    "create_engine",
    "create_sessionmaker",
    "session_scope",
]


def create_engine(url: str, *, application_name: str | None = None, **kwargs: Any) -> AsyncEngine:
    """An asyncpg engine for ``url``; connections are pinged.

    ``application_name`` labels its connections in ``pg_stat_activity``.
    """
    url = normalize_database_url(url)
    if application_name is not None:
        kwargs.setdefault("connect_args", {}).setdefault("server_settings", {})[
            "application_name"
        ] = application_name
    return _create_async_engine(url, pool_pre_ping=True, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``; objects stay readable after commit (no lazy reload in async)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block succeeds, rolls back when it raises."""
    async with sessionmaker() as session, session.begin():
        yield session


@asynccontextmanager
async def autocommit_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose every statement commits on its own: no ``BEGIN``/``COMMIT`` round trips.

    For writes that are one statement each (a statement is atomic by itself, so a CTE that
    updates a row and inserts its event holds together). Nothing is rolled back when the
    block raises: never run statements here that must commit or fail together.
    """
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session

"""The async engine, the session factory, and the unit-of-work scope around a session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DatabaseSettings",
    "create_engine",
    "create_sessionmaker",
    "normalize_database_url",
    "session_scope",
]

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/provisioner"
_ASYNC_SCHEME = "postgresql+asyncpg://"
_PLAIN_SCHEMES = ("postgresql://", "postgres://")


def normalize_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs become ``postgresql+asyncpg://``."""
    url = url.strip()
    for scheme in _PLAIN_SCHEMES:
        if url.startswith(scheme):
            return _ASYNC_SCHEME + url.removeprefix(scheme)
    return url


class DatabaseSettings(BaseSettings):
    """Where PostgreSQL is: the ``DATABASE_URL`` environment variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    db_pool_size: int = Field(default=10, ge=1, description="Connections kept per process.")
    db_max_overflow: int = Field(
        default=0, ge=0, description="Extra connections under load (closed again after)."
    )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)


def create_engine(
    url: str | None = None, *, application_name: str | None = None, **kwargs: Any
) -> AsyncEngine:
    """An asyncpg engine for ``url`` (default: ``DATABASE_URL``); connections are pinged.

    ``application_name`` labels its connections in ``pg_stat_activity``.
    """
    url = normalize_database_url(url) if url else DatabaseSettings().database_url
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

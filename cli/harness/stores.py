"""Throw-away PostgreSQL databases and the clean-up of a run's Redis queue (:mod:`cli.harness`)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import make_url

from shared.db.migrate import upgrade_to_head
from shared.errors import ConfigError

__all__ = [
    "Database",
    "check_redis",
    "create_database",
    "default_redis_url",
    "drop_database",
    "forget_queue",
    "plain_dsn",
    "server_dsn",
    "slug",
    "temporary_database",
]


def slug(name: str) -> str:
    """``name`` as lower-case letters, digits and ``_`` (for database and queue names)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "stack"


# --- PostgreSQL -----------------------------------------------------------------------------


def plain_dsn(url: str) -> str:
    """``url`` (any SQLAlchemy PostgreSQL URL) as a plain ``postgresql://`` DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def server_dsn() -> str:
    """The server's maintenance database: ``TEST_POSTGRES_DSN``, else ``DATABASE_URL``'s server,
    else user ``postgres`` on 127.0.0.1:5432."""
    url = os.environ.get("TEST_POSTGRES_DSN") or os.environ.get("DATABASE_URL")
    server = make_url(url or "postgresql://postgres@127.0.0.1:5432/postgres")
    return server.set(drivername="postgresql", database="postgres").render_as_string(False)


@dataclass(frozen=True)
class Database:
    """A database on ``server``; ``url`` is the SQLAlchemy URL the service takes."""

    name: str
    url: str
    server: str


async def _admin(server: str, *statements: str) -> None:
    try:
        connection = await asyncpg.connect(server, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise ConfigError(f"PostgreSQL does not answer at {server}: {exc}") from None
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(
    name: str, *, server: str | None = None, migrate: bool = True
) -> Database:
    """Database ``name``, empty (one of that name is dropped first), migrated unless told not.

    ``server`` default: :func:`server_dsn`.
    """
    server = server or server_dsn()
    await _admin(
        server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
    database = Database(name, url.render_as_string(hide_password=False), server)
    if migrate:
        upgrade_to_head(database.url)
    return database


async def drop_database(database: Database) -> None:
    """Drop ``database``, closing whatever is still connected to it."""
    await _admin(database.server, f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def temporary_database(
    purpose: str, *, server: str | None = None, migrate: bool = True
) -> AsyncIterator[Database]:
    """``provisioner_<purpose>_<hex>`` for the block (migrated unless told not), dropped after."""
    name = f"provisioner_{slug(purpose)}_{secrets.token_hex(6)}"
    database = await create_database(name, server=server, migrate=migrate)
    try:
        yield database
    finally:
        await drop_database(database)


# --- Redis ----------------------------------------------------------------------------------


def default_redis_url() -> str:
    """``REDIS_URL``, else db 0 on 127.0.0.1:6379."""
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


async def check_redis(url: str | None = None) -> None:
    """Raise :class:`ConfigError` unless Redis answers at ``url`` (:func:`default_redis_url`)."""
    url = url or default_redis_url()
    redis = Redis.from_url(url)
    try:
        await redis.ping()
    except (OSError, RedisError) as exc:
        raise ConfigError(f"Redis does not answer at {url}: {exc}") from None
    finally:
        await redis.aclose()


async def forget_queue(url: str, queue_name: str) -> None:
    """Delete the queue, its health-check keys and its waiting jobs' keys.

    Those would stay for a day or for ever; finished jobs' results expire on their own.
    """
    redis = Redis.from_url(url)
    try:
        job_ids = [raw.decode() for raw in await redis.zrange(queue_name, 0, -1)]
        keys = [queue_name, *[key async for key in redis.scan_iter(match=f"{queue_name}:*")]]
        prefixes = (job_key_prefix, retry_key_prefix, in_progress_key_prefix)
        keys += [prefix + job_id for job_id in job_ids for prefix in prefixes]
        for start in range(0, len(keys), 1000):
            await redis.unlink(*keys[start : start + 1000])
    finally:
        await redis.aclose()

"""PostgreSQL for tests: a fresh database per test session, a rolled-back transaction per test.

The session's database is ``provisioner_test_<random hex>``, migrated to head
once and dropped at the end, so concurrent runs never collide. The server is
``TEST_POSTGRES_DSN`` (default: user ``postgres`` on 127.0.0.1:5432).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.engine import create_engine, create_sessionmaker
from shared.db.metadata import metadata
from shared.db.migrate import upgrade_to_head

_T = TypeVar("_T")
_SERVER_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion on its own loop, whatever loop this thread has."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_SERVER_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def temporary_database() -> Iterator[str]:
    """An empty database that exists for the block; yields its SQLAlchemy URL."""
    name = f"provisioner_test_{secrets.token_hex(6)}"
    _run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(_SERVER_DSN).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        _run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of this session's database, migrated to head."""
    with temporary_database() as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture
async def db_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction rolled back after the test; its commits are savepoints."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.begin()
            session = AsyncSession(
                bind=connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
            try:
                yield session
            finally:
                await session.close()
                await connection.rollback()
    finally:
        await engine.dispose()


@pytest.fixture
async def db_sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that really commit (for code that opens its own); tables are emptied after."""
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def module_database_url() -> Iterator[str]:
    """A database of the module's own, migrated: for modules that run whole processes on it."""
    with temporary_database() as url:
        upgrade_to_head(url)
        yield url

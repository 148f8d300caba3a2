"""PostgreSQL for tests: a fresh database per test session, a rolled-back transaction per test.

The session's database is ``provisioner_test_<random hex>``, migrated to head
once and dropped at the end, so concurrent runs never collide. The server is
:func:`cli.harness.server_dsn`'s: ``TEST_POSTGRES_DSN``, else ``DATABASE_URL``'s,
else user ``postgres`` on 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.harness import create_database, drop_database
from shared.db.engine import create_engine, create_sessionmaker
from shared.db.metadata import metadata

_T = TypeVar("_T")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion on its own loop, whatever loop this thread has."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


@contextmanager
def temporary_database(*, migrate: bool = False) -> Iterator[str]:
    """A database (empty unless ``migrate``) that exists for the block; yields its URL."""
    name = f"provisioner_test_{secrets.token_hex(6)}"
    database = _run(create_database(name, migrate=migrate))
    try:
        yield database.url
    finally:
        _run(drop_database(database))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of this session's database, migrated to head."""
    with temporary_database(migrate=True) as url:
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

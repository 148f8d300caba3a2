"""DATABASE_URL handling and the commit/rollback scope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import repository as token_repository
from shared.auth.models import ApiToken
from shared.db.engine import session_scope
from shared.settings import DEFAULT_DATABASE_URL, DatabaseSettings, normalize_database_url


@pytest.mark.parametrize(
    "url",
    [
        "postgres://u:p@db:5432/x",
        "postgresql://u:p@db:5432/x",
        "postgresql+asyncpg://u:p@db:5432/x",
    ],
)
def test_urls_use_asyncpg(url: str) -> None:
    assert normalize_database_url(url) == "postgresql+asyncpg://u:p@db:5432/x"


def test_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://svc:pw@db/prov")

    settings = DatabaseSettings()

    assert settings.url == "postgresql+asyncpg://svc:pw@db/prov"
    assert "pw" not in repr(settings)


def test_default_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert DatabaseSettings().url == DEFAULT_DATABASE_URL


async def _token_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(ApiToken))).scalar_one()


async def test_session_scope_commits_on_success(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(db_sessionmaker) as session:
        await token_repository.insert_token(session, "h1", "user", "alice")

    assert await _token_count(db_sessionmaker) == 1


async def test_session_scope_rolls_back_on_error(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def insert_then_fail() -> None:
        async with session_scope(db_sessionmaker) as session:
            await token_repository.insert_token(session, "h2", "user", "alice")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail()

    assert await _token_count(db_sessionmaker) == 0

"""The hand-written migration: reversible, and the same schema as the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, text

from shared.db.engine import create_engine
from shared.db.metadata import metadata
from shared.db.migrate import downgrade_to_base, upgrade_to_head
from tests.db_fixtures import temporary_database

_TABLES = {
    "alembic_version",
    "api_tokens",
    "project_events",
    "project_secrets",
    "project_settings",
    "projects",
}


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_from_a_running_loop() -> None:
    with temporary_database() as url:
        upgrade_to_head(url)
        assert await _tables(url) == _TABLES

        downgrade_to_base(url)
        assert await _tables(url) == {"alembic_version"}

        upgrade_to_head(url)
        assert await _tables(url) == _TABLES


def test_upgrade_without_a_running_loop() -> None:
    with temporary_database() as url:
        upgrade_to_head(url)
        upgrade_to_head(url)  # already at head: nothing to do


async def test_migration_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_server_default": True}),
                    metadata,
                )
            )
            indexes = await connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            )
            index_defs: dict[str, str] = {row.indexname: row.indexdef for row in indexes}
            constraints = await connection.execute(
                text(
                    "SELECT conname FROM pg_constraint c JOIN pg_namespace n"
                    " ON n.oid = c.connamespace WHERE n.nspname = 'public'"
                )
            )
            constraint_names = set(constraints.scalars())
    finally:
        await engine.dispose()

    assert diff == []
    # Autogenerate compares neither partial-index predicates nor CHECK constraints.
    for table in metadata.tables.values():
        for index in table.indexes:
            assert isinstance(index, Index)
            definition = index_defs[str(index.name)]
            partial = index.dialect_options["postgresql"]["where"] is not None
            assert (" WHERE " in definition) == partial
            assert definition.startswith("CREATE UNIQUE") == bool(index.unique)
        expected = {str(c.name) for c in table.constraints}
        assert expected <= constraint_names, expected - constraint_names

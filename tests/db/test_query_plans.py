"""The sweeper and the listings use their indexes (a few thousand rows, ANALYZEd).

The exact SQL the repository sends, with its parameters, is captured and EXPLAINed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects import repository

_ROWS = 5000


@pytest.fixture
async def many_projects(db_session: AsyncSession) -> AsyncSession:
    """5,000 projects, mostly finished, as in a long-running service; statistics fresh."""
    await db_session.execute(
        text(
            """
            INSERT INTO projects (id, name, repo_name, owner, status, created_at, updated_at)
            SELECT gen_random_uuid(), 'Project ' || i, 'bulk-' || i, 'owner-' || (i % 50),
                   CASE WHEN i % 100 = 0 THEN 'pending_repo'
                        WHEN i % 100 = 1 THEN 'provisioning'
                        WHEN i % 100 < 4 THEN 'repo_failed'
                        ELSE 'ready' END,
                   now() - i * interval '1 minute', now() - i * interval '1 minute'
            FROM generate_series(1, :rows) AS i
            """
        ),
        {"rows": _ROWS},
    )
    await db_session.execute(text("ANALYZE projects"))
    return db_session


async def _explain(session: AsyncSession, query: Callable[[], Awaitable[object]]) -> str:
    connection = await session.connection()
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    engine = connection.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await query()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    plan = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(plan.scalars())


async def test_sweeper_uses_its_partial_index(many_projects: AsyncSession) -> None:
    older_than = datetime.now(UTC) - timedelta(minutes=5)

    plan = await _explain(
        many_projects,
        lambda: repository.stale_unfinished(many_projects, older_than=older_than, limit=100),
    )

    assert "ix_projects_unfinished_updated_at" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize(
    ("status", "indexes"),
    [
        # Few unfinished rows: reading the sweeper's small partial index is as good.
        ("pending_repo", ("ix_projects_status_created_at_id", "ix_projects_unfinished_updated_at")),
        ("repo_failed", ("ix_projects_status_created_at_id",)),
    ],
)
async def test_status_listing_uses_an_index(
    many_projects: AsyncSession, status: str, indexes: tuple[str, ...]
) -> None:
    first = await repository.list_projects(
        many_projects, owner=None, status=status, limit=10, after=None
    )
    assert first.next_after is not None

    for after in (None, first.next_after):

        async def page(after: repository.Cursor | None = after) -> repository.ProjectPage:
            return await repository.list_projects(
                many_projects, owner=None, status=status, limit=10, after=after
            )

        plan = await _explain(many_projects, page)
        assert any(index in plan for index in indexes), plan
        assert "Seq Scan" not in plan, plan


async def test_owner_listing_uses_the_owner_index(many_projects: AsyncSession) -> None:
    plan = await _explain(
        many_projects,
        lambda: repository.list_projects(
            many_projects, owner="owner-7", status=None, limit=20, after=None
        ),
    )

    assert "ix_projects_owner_created_at_id" in plan, plan
    assert "Seq Scan" not in plan, plan


async def test_listing_everything_reads_an_index_not_the_table(
    many_projects: AsyncSession,
) -> None:
    plan = await _explain(
        many_projects,
        lambda: repository.list_projects(
            many_projects, owner=None, status=None, limit=20, after=None
        ),
    )

    assert "ix_projects_created_at_id" in plan, plan
    assert "Seq Scan" not in plan, plan

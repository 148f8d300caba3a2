"""The doctor's checks of PostgreSQL (answers, migrated), Redis, the workers and the queue."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError

from cli.doctor.model import Check, Outcome
from shared.db.engine import create_engine, create_sessionmaker
from shared.db.migrate import alembic_config
from shared.fair_queue import fair_queue
from shared.heartbeats import TTL_INTERVALS, live_workers
from shared.jobs import open_queue
from shared.ops import repository as ops_repository
from shared.settings import Settings

__all__ = ["OLD_PENDING_S", "DatabaseFacts", "check_database", "check_redis"]

OLD_PENDING_S = 3600
"""An unfinished project older than this is worth a warning."""


def _where(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


class DatabaseFacts:
    """What the database checks learnt for later checks."""

    def __init__(self) -> None:
        self.reachable = False
        self.features_in_use: set[str] | None = None
        self.unfinished = 0
        self.oldest: ops_repository.OldestUnfinished | None = None


async def check_database(settings: Settings) -> tuple[list[Check], DatabaseFacts]:
    """PostgreSQL answers; its schema is at the newest migration; what projects ask for."""
    url = settings.database.url
    facts = DatabaseFacts()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url, application_name="provisioner-doctor", pool_size=1)
    try:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                has_table = await connection.scalar(
                    text("SELECT to_regclass('alembic_version') IS NOT NULL")
                )
                current = (
                    await connection.scalar(text("SELECT version_num FROM alembic_version"))
                    if has_table
                    else None
                )
        except (OSError, SQLAlchemyError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            result = f"PostgreSQL does not answer at {_where(url)}: {reason}"
            fix = "start PostgreSQL, or correct DATABASE_URL"
            skipped = Check("migrations", Outcome.SKIP, "PostgreSQL did not answer")
            return [Check("postgresql", Outcome.FAIL, result, fix), skipped], facts
        facts.reachable = True
        checks = [Check("postgresql", Outcome.OK, f"answers at {_where(url)}")]
        if current != head:
            state = f"at migration {current}" if current else "not migrated (no schema)"
            result = f"the database is {state}; this version needs {head}"
            checks.append(Check("migrations", Outcome.FAIL, result, "run: provisioner migrate"))
            return checks, facts
        checks.append(Check("migrations", Outcome.OK, f"at the newest migration ({head})"))
        async with create_sessionmaker(engine)() as session:
            facts.features_in_use = await ops_repository.features_in_use(session)
            counts = await ops_repository.status_counts(session)
            facts.unfinished = counts["pending_repo"] + counts["provisioning"]
            facts.oldest = await ops_repository.oldest_unfinished(session)
        return checks, facts
    finally:
        await engine.dispose()


async def check_redis(settings: Settings, facts: DatabaseFacts) -> list[Check]:
    """Redis answers; a worker's heartbeat is recent; how deep the queue is."""
    redis_settings = settings.redis
    where = make_url(redis_settings.url).render_as_string(hide_password=True)
    try:
        queue = await open_queue(redis_settings)
    except (OSError, RedisError) as exc:
        fix = "start Redis, or correct REDIS_URL"
        return [
            Check("redis", Outcome.FAIL, f"Redis does not answer at {where}: {exc}", fix),
            Check("workers", Outcome.SKIP, "Redis did not answer"),
            Check("queue", Outcome.SKIP, "Redis did not answer"),
        ]
    try:
        await queue.ping()
        checks = [Check("redis", Outcome.OK, f"answers at {where}")]
        checks.append(await _workers(queue, redis_settings.queue_name, settings))
        waiting = await fair_queue(queue, redis_settings).waiting_count()
        checks.append(_queue(waiting, facts))
        return checks
    except (OSError, RedisError) as exc:
        return [Check("redis", Outcome.FAIL, f"Redis failed at {where}: {exc}", "check Redis")]
    finally:
        await queue.aclose()


async def _workers(redis: Redis, queue_name: str, settings: Settings) -> Check:
    workers = await live_workers(redis, queue_name)
    if not workers:
        window = settings.worker.health_check_interval_s * TTL_INTERVALS
        result = f"no worker heartbeat on queue {queue_name!r} in the last {window} s"
        fix = "start one: provisioner worker (same REDIS_URL and QUEUE_NAME as the API)"
        return Check("workers", Outcome.FAIL, result, fix)
    seen = ", ".join(f"{w.worker_id} ({w.age_s():.0f} s ago)" for w in workers[:5])
    more = f" and {len(workers) - 5} more" if len(workers) > 5 else ""
    plural = "s" if len(workers) != 1 else ""
    return Check("workers", Outcome.OK, f"{len(workers)} live worker{plural}: {seen}{more}")


def _queue(waiting: int, facts: DatabaseFacts) -> Check:
    result = f"{waiting} waiting for dispatch"
    if not facts.reachable:
        return Check("queue", Outcome.OK, result)
    result += f"; {facts.unfinished} unfinished in the database"
    oldest = facts.oldest
    if oldest is None:
        return Check("queue", Outcome.OK, result + "; none pending")
    age = (datetime.now(UTC) - oldest.created_at).total_seconds()
    result += f"; the oldest, {oldest.name!r} ({oldest.id}), is {age / 60:.0f} min old"
    if age > OLD_PENDING_S:
        fix = "look at it: provisioner projects show ID --events (or the ops console)"
        return Check("queue", Outcome.WARN, result, fix)
    return Check("queue", Outcome.OK, result)

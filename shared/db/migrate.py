"""Run the Alembic migrations from Python (``provisioner migrate`` calls this).

Alembic's environment runs its own event loop, so when a loop is already
running in this thread the migration runs in a helper thread and this call
blocks until it is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from shared.settings import normalize_database_url

__all__ = ["MIGRATIONS_DIR", "alembic_config", "downgrade_to_base", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for the database at ``url``, independent of the cwd."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = normalize_database_url(url)
    return config


def upgrade_to_head(url: str) -> None:
    """Migrate the database at ``url`` to the newest revision."""
    _outside_event_loop(lambda: command.upgrade(alembic_config(url), "head"))


def downgrade_to_base(url: str) -> None:
    """Undo every migration: the database at ``url`` is left without our tables."""
    _outside_event_loop(lambda: command.downgrade(alembic_config(url), "base"))


def _outside_event_loop(run: Callable[[], None]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run()
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alembic") as executor:
        executor.submit(run).result()

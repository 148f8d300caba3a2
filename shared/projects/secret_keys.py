"""Key rotation and retention of stored secret values: ``secrets rekey`` and the sweeper."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.crypto import SecretsCipher
from shared.db.engine import session_scope
from shared.projects import repository

__all__ = ["REKEY_BATCH", "purge_expired_secrets", "rekey_secrets"]

REKEY_BATCH = 500
_log = structlog.get_logger(__name__)


async def rekey_secrets(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: SecretsCipher
) -> tuple[int, int]:
    """Re-encrypt every stored value not under the newest key; returns (re-encrypted, stored).

    Batches commit one by one; a value that changed meanwhile is left to the next run.
    """
    rekeyed = total = 0
    after: tuple[uuid.UUID, str] | None = None
    while True:
        async with session_scope(sessionmaker) as session:
            page = await repository.stored_ciphertexts(session, after=after, limit=REKEY_BATCH)
            for project_id, name, ciphertext in page:
                if cipher.needs_rekey(ciphertext):
                    new = cipher.rekey(ciphertext)
                    rekeyed += await repository.replace_ciphertext(
                        session, project_id, name, ciphertext, new
                    )
        total += len(page)
        if len(page) < REKEY_BATCH:
            return rekeyed, total
        after = (page[-1][0], page[-1][1])


async def purge_expired_secrets(session: AsyncSession, *, retention_days: float) -> int:
    """Wipe the values of projects ``repo_failed`` for longer than ``retention_days``; each
    such project gets an event ``secrets_purged`` naming the secrets (never their values)."""
    older_than = datetime.now(UTC) - timedelta(days=retention_days)
    wiped = await repository.purge_failed_secrets(session, older_than=older_than, limit=500)
    for project_id, names in wiped.items():
        project = await repository.get_project(session, project_id)
        if project is not None:
            await repository.add_event(
                session,
                project,
                "secrets_purged",
                {"secrets": sorted(names), "retention_days": retention_days},
            )
            _log.info("secrets.purged", project_id=str(project_id), count=len(names))
    return len(wiped)

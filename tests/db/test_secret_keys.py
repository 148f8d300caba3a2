"""Key ids and rotation of stored secret values, and their purge after the retention period."""

from __future__ import annotations

from base64 import b64decode
from datetime import UTC, datetime, timedelta

import pytest
from nacl.secret import SecretBox
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.crypto import SecretsCipher, generate_secrets_key
from shared.errors import SecretUndecryptable
from shared.projects import lifecycle, progress, repository
from shared.projects.models import Project
from shared.projects.secret_keys import purge_expired_secrets, rekey_secrets
from tests.db.helpers import new_project

pytestmark = pytest.mark.integration

OLD, NEW = generate_secrets_key(), generate_secrets_key()


def test_a_value_under_the_old_key_decrypts_while_the_old_key_is_listed() -> None:
    sealed = SecretsCipher.from_base64(OLD).encrypt("v")
    rotated = SecretsCipher.from_base64(NEW, OLD)
    assert rotated.decrypt(sealed) == "v"
    assert rotated.needs_rekey(sealed)
    again = rotated.rekey(sealed)
    assert not rotated.needs_rekey(again)
    assert SecretsCipher.from_base64(NEW).decrypt(again) == "v"
    with pytest.raises(SecretUndecryptable):
        SecretsCipher.from_base64(NEW).decrypt(sealed)


def test_a_ciphertext_from_before_key_ids_still_decrypts() -> None:
    legacy = bytes(SecretBox(b64decode(OLD)).encrypt(b"v"))  # no key id in front
    assert SecretsCipher.from_base64(NEW, OLD).decrypt(legacy) == "v"


def test_fingerprints_of_the_old_key_still_match_after_rotation() -> None:
    before = SecretsCipher.from_base64(OLD).fingerprint(b"body")
    rotated = SecretsCipher.from_base64(NEW, OLD)
    assert rotated.fingerprint(b"body") != before
    assert rotated.fingerprint_matches(b"body", before)
    assert not rotated.fingerprint_matches(b"other", before)


async def test_rekey_re_encrypts_every_stored_value_with_the_newest_key(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    old = SecretsCipher.from_base64(OLD)
    async with db_sessionmaker() as session, session.begin():
        for n in range(3):
            await new_project(session, secrets={"A": old.encrypt(f"a{n}"), "B": old.encrypt("b")})
    rotated = SecretsCipher.from_base64(NEW, OLD)

    assert await rekey_secrets(db_sessionmaker, rotated) == (6, 6)
    assert await rekey_secrets(db_sessionmaker, rotated) == (0, 6)  # nothing left to do

    new_only = SecretsCipher.from_base64(NEW)
    async with db_sessionmaker() as session:
        rows = await session.execute(text("SELECT ciphertext FROM project_secrets"))
        assert sorted(new_only.decrypt(bytes(c)) for (c,) in rows) == [
            "a0", "a1", "a2", "b", "b", "b",
        ]  # fmt: skip


async def test_values_of_long_failed_projects_are_purged_with_an_event(
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    cipher = SecretsCipher.from_base64(NEW)
    async with db_sessionmaker() as session, session.begin():
        old_fail = await new_project(session, secrets={"API_KEY": cipher.encrypt("x")})
        recent_fail = await new_project(session, secrets={"API_KEY": cipher.encrypt("y")})
        pending = await new_project(session, secrets={"API_KEY": cipher.encrypt("z")})
        for project in (old_fail, recent_fail):
            started = await lifecycle.start_attempt(session, project.id, 1, job_try=1)
            assert started is not None
            await lifecycle.mark_failed(session, started, code="github_forbidden", message="no")
        await session.execute(
            update(Project)
            .where(Project.id == old_fail.id)
            .values(updated_at=datetime.now(UTC) - timedelta(days=8))
        )

    async with db_sessionmaker() as session, session.begin():
        assert await purge_expired_secrets(session, retention_days=7) == 1

    async with db_sessionmaker() as session:
        stored = {p.id: await progress.secret_rows(session, p.id) for p in (old_fail, recent_fail)}
        assert progress.purged_names(stored[old_fail.id]) == ["API_KEY"]
        assert progress.purged_names(stored[recent_fail.id]) == []
        assert progress.pending_values(await progress.secret_rows(session, pending.id))
        events = [e.kind for e in await repository.list_events(session, old_fail.id, limit=20)]
        assert events[-1] == "secrets_purged"

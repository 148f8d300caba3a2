"""Project, secret and token SQL on the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import repository as token_repository
from shared.crypto import SecretsCipher, generate_secrets_key, hash_api_token, new_api_token
from shared.projects import lifecycle, progress, repository
from shared.projects.models import Project, ProjectStatus
from tests.db.helpers import new_project


async def _set_status(session: AsyncSession, project: Project, status: str) -> None:
    await session.execute(update(Project).where(Project.id == project.id).values(status=status))


async def _insert_raw(session: AsyncSession, repo_name: str) -> Project:
    return await repository.insert_project(
        session,
        id=uuid.uuid4(),
        name="n",
        repo_name=repo_name,
        description=None,
        config={},
        owner="alice",
        idempotency_key=None,
        request_fingerprint=None,
    )


async def test_live_repo_names_are_unique_ignoring_case(db_session: AsyncSession) -> None:
    await _insert_raw(db_session, "my-bot")

    with pytest.raises(IntegrityError, match="uq_projects_live_repo_name"):
        async with db_session.begin_nested():
            await _insert_raw(db_session, "My-Bot")


async def test_a_failed_project_does_not_hold_its_repo_name(db_session: AsyncSession) -> None:
    failed = await _insert_raw(db_session, "my-bot")
    await _set_status(db_session, failed, ProjectStatus.REPO_FAILED)

    again = await _insert_raw(db_session, "MY-BOT")

    assert again.repo_name == "MY-BOT"


async def test_repo_name_in_use(db_session: AsyncSession) -> None:
    live = await new_project(db_session, repo_name="taken")
    failed = await new_project(db_session, repo_name="was-taken")
    await _set_status(db_session, failed, ProjectStatus.REPO_FAILED)

    assert await repository.repo_name_in_use(db_session, "TAKEN")
    assert not await repository.repo_name_in_use(db_session, "taken", excluding=live.id)
    assert not await repository.repo_name_in_use(db_session, "was-taken")
    assert not await repository.repo_name_in_use(db_session, "free")


async def test_get_project(db_session: AsyncSession) -> None:
    project = await new_project(db_session)

    assert await repository.get_project(db_session, project.id) is project
    assert await repository.get_project(db_session, project.id, for_update=True) is project
    assert await repository.get_project(db_session, uuid.uuid4()) is None


async def test_keyset_pagination_walks_every_row_once(db_session: AsyncSession) -> None:
    # Rows in one transaction share created_at (now()); the id breaks the tie.
    same_time = [await new_project(db_session) for _ in range(7)]
    older = [await new_project(db_session) for _ in range(3)]
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for offset, project in enumerate(older):
        await db_session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(created_at=base + timedelta(minutes=offset))
        )
    await new_project(db_session, owner="bob")
    expected = [p.id for p in sorted(same_time, key=lambda p: p.id, reverse=True)]
    expected += [p.id for p in reversed(older)]

    seen: list[uuid.UUID] = []
    after: repository.Cursor | None = None
    pages = 0
    while pages < 10:
        page = await repository.list_projects(
            db_session, owner="alice", status=None, limit=3, after=after
        )
        seen += [p.id for p in page.items]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after

    assert seen == expected
    assert pages == 4


async def test_list_projects_filters_by_status(db_session: AsyncSession) -> None:
    first, second, third = [await new_project(db_session) for _ in range(3)]
    await _set_status(db_session, second, ProjectStatus.READY)

    page = await repository.list_projects(
        db_session, owner=None, status=ProjectStatus.PENDING_REPO, limit=10, after=None
    )

    assert {p.id for p in page.items} >= {first.id, third.id}
    assert second.id not in {p.id for p in page.items}
    assert page.next_after is None


async def test_list_events_after_an_id(db_session: AsyncSession) -> None:
    project = await new_project(db_session)
    for _ in range(3):
        await lifecycle.note_requeued(db_session, project, by="sweeper")

    first_two = await repository.list_events(db_session, project.id, limit=2)
    rest = await repository.list_events(db_session, project.id, limit=10, after_id=first_two[-1].id)

    assert [e.kind for e in first_two] == ["accepted", "requeued_by_sweeper"]
    assert [e.kind for e in rest] == ["requeued_by_sweeper", "requeued_by_sweeper"]


async def test_stale_unfinished_finds_only_forgotten_rows(db_session: AsyncSession) -> None:
    now = datetime.now(UTC)
    cutoff = now - timedelta(minutes=10)

    async def project(status: str, updated: timedelta, next_attempt: timedelta | None) -> Project:
        p = await new_project(db_session)
        await db_session.execute(
            update(Project)
            .where(Project.id == p.id)
            .values(
                status=status,
                updated_at=now - updated,
                next_attempt_at=None if next_attempt is None else now + next_attempt,
            )
        )
        return p

    oldest = await project(ProjectStatus.PENDING_REPO, timedelta(hours=2), None)
    overdue = await project(ProjectStatus.PROVISIONING, timedelta(hours=1), -timedelta(minutes=30))
    await project(ProjectStatus.PROVISIONING, timedelta(hours=1), timedelta(minutes=5))  # waits
    await project(ProjectStatus.PENDING_REPO, timedelta(minutes=1), None)  # recent
    await project(ProjectStatus.READY, timedelta(hours=3), None)
    await project(ProjectStatus.REPO_FAILED, timedelta(hours=3), None)

    found = await repository.stale_unfinished(db_session, older_than=cutoff, limit=10)
    limited = await repository.stale_unfinished(db_session, older_than=cutoff, limit=1)

    assert found == [(oldest.id, 1), (overdue.id, 1)]
    assert limited == [(oldest.id, 1)]


async def test_tokens_are_found_by_hash_unless_revoked(db_session: AsyncSession) -> None:
    token = new_api_token()
    stored = await token_repository.insert_token(db_session, hash_api_token(token), "ops", "carol")
    revoked = new_api_token()
    other = await token_repository.insert_token(db_session, hash_api_token(revoked), "user", "dave")
    other.revoked_at = datetime.now(UTC)
    await db_session.flush()

    found = await token_repository.find_token(db_session, hash_api_token(token))

    assert found is stored
    assert (found.role, found.subject) == ("ops", "carol")
    assert await token_repository.find_token(db_session, hash_api_token(revoked)) is None
    assert await token_repository.find_token(db_session, hash_api_token(new_api_token())) is None
    assert await token_repository.find_token(db_session, token) is None


async def test_secrets_are_stored_encrypted_and_wiped_once_set(db_session: AsyncSession) -> None:
    cipher = SecretsCipher.from_base64(generate_secrets_key())
    plaintexts = {"API_KEY": "sk-live-very-secret-1", "DB_PASSWORD": "пароль-очень-секретный"}
    project = await new_project(
        db_session, secrets={name: cipher.encrypt(value) for name, value in plaintexts.items()}
    )

    raw = (await db_session.execute(text("SELECT t::text FROM project_secrets t"))).scalars().all()
    blobs = (await db_session.execute(text("SELECT ciphertext FROM project_secrets"))).scalars()
    dump = "\n".join(raw).encode() + b"".join(blobs)
    for value in plaintexts.values():
        assert value.encode() not in dump
        assert value.encode().hex().encode() not in dump

    pending = progress.pending_values(await progress.secret_rows(db_session, project.id))
    assert {name: cipher.decrypt(value) for name, value in pending.items()} == plaintexts

    await repository.record_secret_outcomes(
        db_session,
        project.id,
        {"API_KEY": ("set", None, None), "DB_PASSWORD": ("failed", "invalid", "bad value")},
    )

    assert await repository.secret_states(db_session, project.id) == [
        ("API_KEY", "set"),
        ("DB_PASSWORD", "failed"),
    ]
    rows = await db_session.execute(
        text(
            "SELECT name, ciphertext, error_code, error_message FROM project_secrets ORDER BY name"
        )
    )
    api_key, db_password = rows.all()
    assert api_key.ciphertext is None
    assert db_password.ciphertext is not None
    assert (db_password.error_code, db_password.error_message) == ("invalid", "bad value")
    stored = await progress.secret_rows(db_session, project.id)
    assert list(progress.pending_values(stored)) == ["DB_PASSWORD"]


async def test_secret_states_of_several_projects_in_one_query(db_session: AsyncSession) -> None:
    one = await new_project(db_session, secrets={"B": b"x", "A": b"y"})
    two = await new_project(db_session, secrets={"C": b"z"})
    bare = await new_project(db_session)
    found = await repository.secret_states_of(db_session, [one.id, two.id, bare.id])
    assert found == {
        one.id: [("A", "pending"), ("B", "pending")],
        two.id: [("C", "pending")],
        bare.id: [],
    }
    assert await repository.secret_states_of(db_session, []) == {}

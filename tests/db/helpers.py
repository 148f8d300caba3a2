"""Small builders for database tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from shared.projects import lifecycle
from shared.projects.models import Project


@dataclass(frozen=True)
class FakeRepo:
    """What GitHub answers for a created repository (the fields ``mark_ready`` reads)."""

    id: int = 4242
    owner: str = "acme"
    full_name: str = "acme/demo"
    html_url: str = "https://github.com/acme/demo"
    clone_url: str = "https://github.com/acme/demo.git"
    default_branch: str = "main"


async def new_project(
    session: AsyncSession,
    *,
    repo_name: str | None = None,
    name: str = "Тестовый бот",
    owner: str = "alice",
    secrets: Mapping[str, bytes] | None = None,
    idempotency_key: str | None = None,
) -> Project:
    """A freshly accepted project with a unique repository name unless one is given."""
    return await lifecycle.accept(
        session,
        id=uuid.uuid4(),
        name=name,
        repo_name=repo_name or f"bot-{uuid.uuid4().hex[:12]}",
        description="demo",
        config={"language": "python"},
        owner=owner,
        secrets_ciphertexts=secrets or {},
        idempotency_key=idempotency_key,
        request_fingerprint="fp" if idempotency_key else None,
    )

"""Issuing, listing and revoking API tokens: a token is returned once, only its hash is stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.auth import repository as token_repository
from shared.auth.models import ApiToken, TokenRole
from shared.crypto import hash_api_token, new_api_token
from shared.db.engine import create_engine, create_sessionmaker, session_scope

__all__ = [
    "TokenInfo",
    "issue_api_token",
    "list_api_tokens",
    "parse_duration",
    "revoke_api_token",
]

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h`` or ``30m`` as a positive duration; ``ValueError`` otherwise."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"a duration is a positive number and d, h or m, like 90d (got {text!r})")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the token or its hash."""

    id: uuid.UUID
    role: str
    subject: str
    owners: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenInfo:
        """The shown part of ``token``."""
        return cls(
            id=token.id,
            role=token.role,
            subject=token.subject,
            owners=tuple(token.owners) if token.owners is not None else None,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


async def issue_api_token(
    database_url: str,
    *,
    role: str,
    subject: str,
    expires_in: timedelta | None = None,
    owners: Sequence[str] | None = None,
) -> str:
    """Create a token for ``subject`` with ``role`` in the database at ``database_url``;
    returns the token itself, which is never stored.

    ``owners`` limits a ``service`` token to those owners' projects (``ValueError``
    for another role)."""
    if owners and role != TokenRole.SERVICE:
        raise ValueError("only a service token can be limited to owners")
    expires_at = datetime.now(UTC) + expires_in if expires_in is not None else None
    token = new_api_token()
    engine = create_engine(database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await token_repository.insert_token(
                session,
                hash_api_token(token),
                role,
                subject,
                expires_at=expires_at,
                owners=sorted(set(owners)) if owners else None,
            )
    finally:
        await engine.dispose()
    return token


async def list_api_tokens(database_url: str) -> list[TokenInfo]:
    """Every token, oldest first, without its secret."""
    engine = create_engine(database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            return [TokenInfo.of(t) for t in await token_repository.list_tokens(session)]
    finally:
        await engine.dispose()


async def revoke_api_token(database_url: str, token_id: uuid.UUID) -> TokenInfo | None:
    """Revoke a token (the API stops accepting it within 5 s); ``None`` if there is none."""
    engine = create_engine(database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            token = await token_repository.revoke_token(session, token_id)
            return TokenInfo.of(token) if token is not None else None
    finally:
        await engine.dispose()

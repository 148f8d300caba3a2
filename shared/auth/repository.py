"""All SQL about API tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.models import ApiToken

__all__ = ["find_token", "insert_token"]


async def insert_token(session: AsyncSession, token_hash: str, role: str, subject: str) -> ApiToken:
    """Store a token by its hash (see :func:`shared.crypto.hash_api_token`)."""
    token = ApiToken(token_hash=token_hash, role=str(role), subject=subject)
    session.add(token)
    await session.flush()
    return token


async def find_token(session: AsyncSession, token_hash: str) -> ApiToken | None:
    """The token with this hash, unless it is revoked."""
    stmt = select(ApiToken).where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()

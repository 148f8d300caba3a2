"""All SQL about API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.models import ApiToken

__all__ = ["find_token", "insert_token", "list_tokens", "revoke_token"]


async def insert_token(
    session: AsyncSession,
    token_hash: str,
    role: str,
    subject: str,
    *,
    expires_at: datetime | None = None,
    owners: Sequence[str] | None = None,
) -> ApiToken:
    """Store a token by its hash (see :func:`shared.crypto.hash_api_token`)."""
    token = ApiToken(
        token_hash=token_hash,
        role=str(role),
        subject=subject,
        expires_at=expires_at,
        owners=list(owners) if owners else None,
    )
    session.add(token)
    await session.flush()
    return token


async def find_token(session: AsyncSession, token_hash: str) -> ApiToken | None:
    """The token with this hash, unless it is revoked or expired (by the database's clock)."""
    stmt = select(ApiToken).where(
        ApiToken.token_hash == token_hash,
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_tokens(session: AsyncSession) -> list[ApiToken]:
    """Every token, oldest first (callers show no hash)."""
    stmt = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
    return list((await session.execute(stmt)).scalars())


async def revoke_token(session: AsyncSession, token_id: uuid.UUID) -> ApiToken | None:
    """Revoke the token ``token_id`` (kept when already revoked); ``None`` if there is none."""
    stmt = (
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(revoked_at=func.coalesce(ApiToken.revoked_at, func.now()))
        .returning(ApiToken)
    )
    return (await session.execute(stmt)).scalar_one_or_none()

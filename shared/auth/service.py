"""Issuing API tokens: the token is returned once, only its hash is stored."""

from __future__ import annotations

from shared.auth import repository as token_repository
from shared.crypto import hash_api_token, new_api_token
from shared.db.engine import create_engine, create_sessionmaker, session_scope

__all__ = ["issue_api_token"]


async def issue_api_token(database_url: str, *, role: str, subject: str) -> str:
    """Create a token for ``subject`` with ``role`` in the database at ``database_url``;
    returns the token itself, which is never stored."""
    token = new_api_token()
    engine = create_engine(database_url)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            await token_repository.insert_token(session, hash_api_token(token), role, subject)
    finally:
        await engine.dispose()
    return token

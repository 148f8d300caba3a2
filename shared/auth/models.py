"""The API tokens' ORM model: only a token's SHA-256 is stored."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.base import Base, one_of

__all__ = ["ROLES", "ApiToken", "TokenRole"]


class TokenRole(enum.StrEnum):
    """What an API token may do."""

    USER = "user"
    OPS = "ops"
    SERVICE = "service"


ROLES: tuple[str, ...] = tuple(TokenRole)


class ApiToken(Base):
    """An API token, stored only as its SHA-256; ``subject`` becomes a project's owner.

    ``expires_at`` (``None``: never) and ``revoked_at`` end it; ``owners`` (``None``:
    every owner) limits a ``service`` token to those owners' projects.
    """

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    role: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    owners: Mapped[list[str] | None] = mapped_column(ARRAY(Text))

    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        CheckConstraint("owners IS NULL OR cardinality(owners) > 0", name="owners_not_empty"),
    )

"""API token lifecycle: an optional expiry, and owners a ``service`` token is limited to.

``expires_at`` (NULL: never) makes a token answer 401 from then on, like
``revoked_at``. ``owners`` (NULL: every owner) limits a ``service`` token to
those owners' projects.

Revision ID: 0004_token_lifecycle
Revises: 0003_durable_progress
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_token_lifecycle"
down_revision = "0003_durable_progress"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_tokens", sa.Column("owners", postgresql.ARRAY(sa.Text()), nullable=True))
    op.create_check_constraint(
        op.f("ck_api_tokens_owners_not_empty"),
        "api_tokens",
        "owners IS NULL OR cardinality(owners) > 0",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_api_tokens_owners_not_empty"), "api_tokens", type_="check")
    op.drop_column("api_tokens", "owners")
    op.drop_column("api_tokens", "expires_at")

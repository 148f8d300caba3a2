"""Repository settings: what a project asked for, and each setting's outcome.

``projects.repository_settings`` keeps the ``repository`` object of the create
request as validated (never secret values). ``project_settings`` holds one row per
setting (``topics``, ``teams.platform``, ``variables.PYTHON_VERSION``...): its
state, the error that refused it, the SHA-256 of the value last applied (so a
re-run makes no request for a setting already applied) and GitHub's id for what
it made (a ruleset's id).

Revision ID: 0005_repository_settings
Revises: 0004_token_lifecycle
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_repository_settings"
down_revision = "0004_token_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "projects",
        sa.Column(
            "repository_settings",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_table(
        "project_settings",
        sa.Column("project_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("setting", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("digest", sa.Text(), nullable=True),
        sa.Column("github_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("project_id", "setting", name=op.f("pk_project_settings")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'applied', 'failed')", name=op.f("ck_project_settings_state")
        ),
    )


def downgrade() -> None:
    op.drop_table("project_settings")
    op.drop_column("projects", "repository_settings")

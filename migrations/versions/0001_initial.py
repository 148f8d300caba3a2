"""Initial schema: projects, project_secrets, project_events, api_tokens.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_NOW = sa.text("now()")
_EMPTY_JSON = sa.text("'{}'::jsonb")


def _timestamp(name: str, *, nullable: bool = True) -> sa.Column[object]:
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True), nullable=True)
    return sa.Column(name, sa.DateTime(timezone=True), server_default=_NOW, nullable=False)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("repo_name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("config", postgresql.JSONB(), server_default=_EMPTY_JSON, nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("generation", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("last_error_code", sa.Text(), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("repo_github_id", sa.BigInteger(), nullable=True),
        sa.Column("repo_owner", sa.Text(), nullable=True),
        sa.Column("repo_full_name", sa.Text(), nullable=True),
        sa.Column("repo_html_url", sa.Text(), nullable=True),
        sa.Column("repo_clone_url", sa.Text(), nullable=True),
        sa.Column("repo_default_branch", sa.Text(), nullable=True),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        _timestamp("create_requested_at"),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_fingerprint", sa.Text(), nullable=True),
        _timestamp("created_at", nullable=False),
        _timestamp("updated_at", nullable=False),
        _timestamp("provisioned_at"),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.CheckConstraint(
            "status IN ('pending_repo', 'provisioning', 'ready', 'repo_failed')",
            name=op.f("ck_projects_status"),
        ),
        sa.UniqueConstraint(
            "owner", "idempotency_key", name=op.f("uq_projects_owner_idempotency_key")
        ),
    )
    op.create_index(
        "uq_projects_live_repo_name",
        "projects",
        [sa.text("lower(repo_name)")],
        unique=True,
        postgresql_where=sa.text("status <> 'repo_failed'"),
    )
    op.create_index("ix_projects_status_created_at_id", "projects", ["status", "created_at", "id"])
    op.create_index("ix_projects_owner_created_at_id", "projects", ["owner", "created_at", "id"])
    op.create_index("ix_projects_created_at_id", "projects", ["created_at", "id"])
    op.create_index(
        "ix_projects_unfinished_updated_at",
        "projects",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('pending_repo', 'provisioning')"),
    )

    op.create_table(
        "project_secrets",
        sa.Column("project_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _timestamp("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("project_id", "name", name=op.f("pk_project_secrets")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_secrets_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'set', 'failed')", name=op.f("ck_project_secrets_state")
        ),
    )

    op.create_table(
        "project_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("project_id", postgresql.UUID(as_uuid=True), nullable=False),
        _timestamp("at", nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("data", postgresql.JSONB(), server_default=_EMPTY_JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_events")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_events_project_id_projects"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_project_events_project_id_id", "project_events", ["project_id", "id"])

    op.create_table(
        "api_tokens",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        _timestamp("created_at", nullable=False),
        _timestamp("revoked_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.CheckConstraint("role IN ('user', 'ops', 'service')", name=op.f("ck_api_tokens_role")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_index("ix_project_events_project_id_id", table_name="project_events")
    op.drop_table("project_events")
    op.drop_table("project_secrets")
    op.drop_index("ix_projects_unfinished_updated_at", table_name="projects")
    op.drop_index("ix_projects_created_at_id", table_name="projects")
    op.drop_index("ix_projects_owner_created_at_id", table_name="projects")
    op.drop_index("ix_projects_status_created_at_id", table_name="projects")
    op.drop_index("uq_projects_live_repo_name", table_name="projects")
    op.drop_table("projects")

"""After ready: changes, secret rotation, drift correction, archiving.

New statuses: ``repo_missing`` (the repository was deleted or archived behind our
back), ``archiving`` → ``archived`` and ``deleted`` (purged). A deleted project gives
its repository name back. ``sync_*`` columns track the changes asked after creation
(``sync_generation`` counts them, ``sync_applied_generation`` is the last one GitHub
has); ``applied_description`` is the description GitHub has; ``removal`` is an
archive or purge asked for; ``maintenance_lease_until`` keeps one maintenance job per
project at a time; ``reconcile_*`` schedule drift correction. A secret may be
``removing`` (deleted through the API, not yet from GitHub).

Revision ID: 0006_after_ready
Revises: 0005_repository_settings
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_after_ready"
down_revision = "0005_repository_settings"
branch_labels = None
depends_on = None

_OLD_STATUSES = "status IN ('pending_repo', 'provisioning', 'ready', 'repo_failed')"
_STATUSES = (
    "status IN ('pending_repo', 'provisioning', 'ready', 'repo_failed', 'repo_missing',"
    " 'archiving', 'archived', 'deleted')"
)
_OLD_SECRET_STATES = "state IN ('pending', 'set', 'failed')"
_SECRET_STATES = "state IN ('pending', 'set', 'failed', 'removing')"


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("sync_generation", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "sync_applied_generation", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("sync_state", sa.Text(), nullable=True),
        sa.Column("sync_error_code", sa.Text(), nullable=True),
        sa.Column("sync_error_message", sa.Text(), nullable=True),
        sa.Column("applied_description", sa.Text(), nullable=True),
        sa.Column("removal", sa.Text(), nullable=True),
        sa.Column("missing_reason", sa.Text(), nullable=True),
        sa.Column("maintenance_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconcile_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconcile_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_reconciled_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    for column in _columns():
        op.add_column("projects", column)
    op.drop_constraint(op.f("ck_projects_status"), "projects", type_="check")
    op.create_check_constraint(op.f("ck_projects_status"), "projects", _STATUSES)
    op.create_check_constraint(
        op.f("ck_projects_sync_state"),
        "projects",
        "sync_state IN ('pending', 'applying', 'applied', 'failed')",
    )
    op.create_check_constraint(
        op.f("ck_projects_removal"), "projects", "removal IN ('archive', 'purge')"
    )
    op.drop_constraint(op.f("ck_project_secrets_state"), "project_secrets", type_="check")
    op.create_check_constraint(op.f("ck_project_secrets_state"), "project_secrets", _SECRET_STATES)
    op.drop_index("uq_projects_live_repo_name", table_name="projects")
    op.create_index(
        "uq_projects_live_repo_name",
        "projects",
        [sa.text("lower(repo_name)")],
        unique=True,
        postgresql_where=sa.text("NOT (status IN ('repo_failed', 'deleted'))"),
    )
    op.create_index(
        "ix_projects_ready_reconcile_due_at",
        "projects",
        ["reconcile_due_at"],
        postgresql_where=sa.text("status = 'ready'"),
    )
    # What ready projects already have on GitHub: their description, a first check
    # spread over the next hour.
    op.execute(
        "UPDATE projects SET applied_description = description,"
        " reconcile_due_at = now() + random() * interval '1 hour' WHERE status = 'ready'"
    )


def downgrade() -> None:
    op.execute(
        "DELETE FROM projects WHERE status IN ('repo_missing', 'archiving', 'archived', 'deleted')"
    )
    op.execute("DELETE FROM project_secrets WHERE state = 'removing'")
    op.drop_index("ix_projects_ready_reconcile_due_at", table_name="projects")
    op.drop_index("uq_projects_live_repo_name", table_name="projects")
    op.create_index(
        "uq_projects_live_repo_name",
        "projects",
        [sa.text("lower(repo_name)")],
        unique=True,
        postgresql_where=sa.text("status <> 'repo_failed'"),
    )
    op.drop_constraint(op.f("ck_project_secrets_state"), "project_secrets", type_="check")
    op.create_check_constraint(
        op.f("ck_project_secrets_state"), "project_secrets", _OLD_SECRET_STATES
    )
    op.drop_constraint(op.f("ck_projects_removal"), "projects", type_="check")
    op.drop_constraint(op.f("ck_projects_sync_state"), "projects", type_="check")
    op.drop_constraint(op.f("ck_projects_status"), "projects", type_="check")
    op.create_check_constraint(op.f("ck_projects_status"), "projects", _OLD_STATUSES)
    for column in reversed(_columns()):
        op.drop_column("projects", column.name)

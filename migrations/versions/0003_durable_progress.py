"""Durable step progress: what each finished provisioning step left behind.

A retry resumes at the first unfinished step: the repository (its ``repo_*``
columns, now written as soon as it exists, and whether we created it), the
committed ``.project.yaml`` (blob sha and the SHA-256 of its bytes), the
repository's Actions key (public), and when this generation's first attempt
began (transient failures are retried for ``WORKER_RETRY_FOR_S`` from then),
and why a deferred job waits (``wait_reason``, until ``next_attempt_at``).

Revision ID: 0003_durable_progress
Revises: 0002_project_change_notify
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_durable_progress"
down_revision = "0002_project_change_notify"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("repo_created", sa.Boolean()),
    ("project_file_sha", sa.Text()),
    ("project_file_digest", sa.Text()),
    ("actions_key_id", sa.Text()),
    ("actions_public_key", sa.Text()),
    ("generation_started_at", sa.DateTime(timezone=True)),
    ("wait_reason", sa.Text()),
)


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("projects", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column("projects", name)

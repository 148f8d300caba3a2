"""Notify listeners when a project changes: ``NOTIFY project_changed, '<id>:<version>'``.

A trigger, so every change is announced, whoever makes it; PostgreSQL
delivers the notification only when the transaction commits. The API's
long-poll (``GET /api/projects/{id}?wait=``) wakes its waiters from it.

Revision ID: 0002_project_change_notify
Revises: 0001_initial
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002_project_change_notify"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION notify_project_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('project_changed', NEW.id::text || ':' || NEW.version::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER projects_notify_changed
        AFTER INSERT OR UPDATE ON projects
        FOR EACH ROW EXECUTE FUNCTION notify_project_changed()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS projects_notify_changed ON projects")
    op.execute("DROP FUNCTION IF EXISTS notify_project_changed()")

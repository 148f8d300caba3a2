"""The projects domain's ORM models: projects, their secrets and their events.

Status and role values are plain ``text`` columns guarded by CHECK constraints.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    FetchedValue,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db.base import Base, one_of

__all__ = [
    "GONE_STATUSES",
    "REMOVALS",
    "SECRET_STATES",
    "SETTING_STATES",
    "STATUSES",
    "SYNC_STATES",
    "UNFINISHED_STATUSES",
    "Project",
    "ProjectEvent",
    "ProjectSecret",
    "ProjectSetting",
    "ProjectStatus",
    "Removal",
    "SecretState",
    "SettingState",
    "SyncState",
]


class ProjectStatus(enum.StrEnum):
    """Where a project is in its life (see design notes, status machine)."""

    PENDING_REPO = "pending_repo"
    PROVISIONING = "provisioning"
    READY = "ready"
    REPO_FAILED = "repo_failed"
    REPO_MISSING = "repo_missing"
    ARCHIVING = "archiving"
    ARCHIVED = "archived"
    DELETED = "deleted"


class SecretState(enum.StrEnum):
    """Whether GitHub has a project's Actions secret."""

    PENDING = "pending"
    SET = "set"
    FAILED = "failed"
    REMOVING = "removing"


class SyncState(enum.StrEnum):
    """Whether GitHub has the changes asked for after creation."""

    PENDING = "pending"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"


class Removal(enum.StrEnum):
    """What ``DELETE /api/projects/{id}`` asked for."""

    ARCHIVE = "archive"
    PURGE = "purge"


class SettingState(enum.StrEnum):
    """Whether GitHub has one of a project's repository settings."""

    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"


STATUSES: tuple[str, ...] = tuple(ProjectStatus)
UNFINISHED_STATUSES: tuple[str, ...] = (ProjectStatus.PENDING_REPO, ProjectStatus.PROVISIONING)
SECRET_STATES: tuple[str, ...] = tuple(SecretState)
SETTING_STATES: tuple[str, ...] = tuple(SettingState)
SYNC_STATES: tuple[str, ...] = tuple(SyncState)
REMOVALS: tuple[str, ...] = tuple(Removal)
GONE_STATUSES: tuple[str, ...] = (ProjectStatus.REPO_FAILED, ProjectStatus.DELETED)
"""Statuses whose project no longer owns its repository name."""


_NOW = func.now()
# Columns the lifecycle sets to ``now()`` in SQL: read back with RETURNING on every UPDATE.
_SET_BY_SQL = FetchedValue()


class Project(Base):
    """A project and, once ready, its GitHub repository. ``version`` is the API's ETag."""

    __tablename__ = "projects"
    # SQL-set timestamps come back in the UPDATE's RETURNING, never by lazy load.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    repo_name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    repository_settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    """The create request's ``repository`` object as validated (no secret values)."""
    owner: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(server_default=text("1"))
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(Text)
    last_error_message: Mapped[str | None] = mapped_column(Text)
    repo_github_id: Mapped[int | None] = mapped_column(BigInteger)
    repo_owner: Mapped[str | None] = mapped_column(Text)
    repo_full_name: Mapped[str | None] = mapped_column(Text)
    repo_html_url: Mapped[str | None] = mapped_column(Text)
    repo_clone_url: Mapped[str | None] = mapped_column(Text)
    repo_default_branch: Mapped[str | None] = mapped_column(Text)
    installation_id: Mapped[int | None] = mapped_column(BigInteger)
    repo_created: Mapped[bool | None]
    """Whether this generation created the repository (its early 404s are GitHub settling)."""
    project_file_sha: Mapped[str | None] = mapped_column(Text)
    project_file_digest: Mapped[str | None] = mapped_column(Text)
    """SHA-256 (hex) of the ``.project.yaml`` bytes last committed."""
    actions_key_id: Mapped[str | None] = mapped_column(Text)
    actions_public_key: Mapped[str | None] = mapped_column(Text)
    generation_started_at: Mapped[datetime | None] = mapped_column(server_onupdate=_SET_BY_SQL)
    """Start of the retry window: the generation's first attempt, moved on by time deferred."""
    wait_reason: Mapped[str | None] = mapped_column(Text)
    """Why a deferred job waits until ``next_attempt_at`` (not an error)."""
    create_requested_at: Mapped[datetime | None] = mapped_column(server_onupdate=_SET_BY_SQL)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    request_fingerprint: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(server_default=_NOW, server_onupdate=_SET_BY_SQL)
    provisioned_at: Mapped[datetime | None] = mapped_column(server_onupdate=_SET_BY_SQL)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    sync_generation: Mapped[int] = mapped_column(server_default=text("0"))
    """How many changes were asked after creation (PATCH, secret set or removed)."""
    sync_applied_generation: Mapped[int] = mapped_column(server_default=text("0"))
    sync_state: Mapped[str | None] = mapped_column(Text)
    sync_error_code: Mapped[str | None] = mapped_column(Text)
    sync_error_message: Mapped[str | None] = mapped_column(Text)
    applied_description: Mapped[str | None] = mapped_column(Text)
    """The repository description GitHub has (set by the create request, then by changes)."""
    removal: Mapped[str | None] = mapped_column(Text)
    """``archive`` or ``purge`` once asked; done when the project is archived/deleted."""
    missing_reason: Mapped[str | None] = mapped_column(Text)
    """Why a ``repo_missing`` project lost its repository: ``deleted`` or ``archived``."""
    maintenance_lease_until: Mapped[datetime | None]
    """One maintenance job at a time: the one whose lease runs until then."""
    reconcile_due_at: Mapped[datetime | None]
    reconcile_requested: Mapped[bool] = mapped_column(server_default=text("false"))
    last_reconciled_at: Mapped[datetime | None]

    secrets: Mapped[list[ProjectSecret]] = relationship(
        back_populates="project", lazy="raise", passive_deletes=True
    )
    events: Mapped[list[ProjectEvent]] = relationship(
        back_populates="project", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(one_of("sync_state", SYNC_STATES), name="sync_state"),
        CheckConstraint(one_of("removal", REMOVALS), name="removal"),
        UniqueConstraint("owner", "idempotency_key"),
        # A live project owns its repository name (GitHub compares names case-insensitively).
        Index(
            "uq_projects_live_repo_name",
            func.lower(text("repo_name")),
            unique=True,
            postgresql_where=text(f"NOT ({one_of('status', GONE_STATUSES)})"),
        ),
        Index("ix_projects_status_created_at_id", "status", "created_at", "id"),
        Index("ix_projects_owner_created_at_id", "owner", "created_at", "id"),
        Index("ix_projects_created_at_id", "created_at", "id"),
        # The reconcile schedule's scan: only ready rows are in it.
        Index(
            "ix_projects_ready_reconcile_due_at",
            "reconcile_due_at",
            postgresql_where=text("status = 'ready'"),
        ),
        # The sweeper's scan: only unfinished rows are in it.
        Index(
            "ix_projects_unfinished_updated_at",
            "updated_at",
            postgresql_where=text(one_of("status", UNFINISHED_STATUSES)),
        ),
    )


class ProjectSecret(Base):
    """One Actions secret of a project; the ciphertext is wiped once GitHub has it."""

    __tablename__ = "project_secrets"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=_NOW)

    project: Mapped[Project] = relationship(back_populates="secrets", lazy="raise")

    __table_args__ = (CheckConstraint(one_of("state", SECRET_STATES), name="state"),)


class ProjectSetting(Base):
    """One repository setting of a project (``topics``, ``teams.platform``...) and its outcome."""

    __tablename__ = "project_settings"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    setting: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    code: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(Text)
    """SHA-256 of the value last applied: a re-run makes no request while it matches."""
    github_id: Mapped[int | None] = mapped_column(BigInteger)
    """GitHub's id of what the setting made (a ruleset), so it is updated, not duplicated."""
    updated_at: Mapped[datetime] = mapped_column(server_default=_NOW)

    __table_args__ = (CheckConstraint(one_of("state", SETTING_STATES), name="state"),)


class ProjectEvent(Base):
    """One line of a project's history; ``data`` never holds secrets."""

    __tablename__ = "project_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(server_default=_NOW)
    kind: Mapped[str] = mapped_column(Text)
    generation: Mapped[int]
    attempt: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))

    project: Mapped[Project] = relationship(back_populates="events", lazy="raise")

    __table_args__ = (Index("ix_project_events_project_id_id", "project_id", "id"),)

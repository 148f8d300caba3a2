"""What each console page shows, read from PostgreSQL and Redis (no HTML here).

The overview reuses :func:`api.budget.read_budget` (what ``GET /api/budget``
answers), the fair queue's depth and :mod:`shared.heartbeats`; lists page
with :mod:`shared.projects.cursors`' keyset cursors, like the REST API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.budget import BudgetOut, read_budget
from api.deps import Resources
from api.ops.auth import PageError
from api.ops.charts import Chart, hourly_chart, status_chart
from shared.errors import RequestRejected
from shared.heartbeats import WorkerBeat, live_workers
from shared.ops import repository as ops_repository
from shared.ops.repository import FailedGroup, OldestUnfinished
from shared.projects import repository, settings_rows
from shared.projects.cursors import decode_project_cursor, encode_project_cursor
from shared.projects.models import STATUSES, Project, ProjectEvent, ProjectSetting
from shared.projects.schemas import ProjectOut

__all__ = [
    "PAGE_SIZE",
    "FailedView",
    "Overview",
    "ProjectList",
    "ProjectRow",
    "ProjectView",
    "failed_view",
    "find_view",
    "overview",
    "project_view",
]

PAGE_SIZE = 50
EVENTS_SHOWN = 500


@dataclass(frozen=True)
class Overview:
    """The fleet at a glance."""

    counts: dict[str, int]
    status_chart: Chart
    hourly_chart: Chart
    budget: BudgetOut | None
    waiting_for_dispatch: int
    oldest: OldestUnfinished | None
    workers: list[WorkerBeat]
    failed_groups: list[FailedGroup]
    now: datetime

    @property
    def unfinished(self) -> int:
        """Projects pending or provisioning."""
        return self.counts.get("pending_repo", 0) + self.counts.get("provisioning", 0)


async def overview(session: AsyncSession, resources: Resources) -> Overview:
    """Everything the overview page shows."""
    assert resources.ops is not None
    now = datetime.now(UTC)
    counts = await ops_repository.status_counts(session)
    hours = await ops_repository.hourly_outcomes(session, now=now)
    return Overview(
        counts=counts,
        status_chart=status_chart(counts),
        hourly_chart=hourly_chart(hours),
        budget=await read_budget(resources),
        waiting_for_dispatch=await resources.fair.waiting_count(),
        oldest=await ops_repository.oldest_unfinished(session),
        workers=await live_workers(resources.queue, resources.ops.queue_name),
        failed_groups=(await ops_repository.failed_groups(session))[:5],
        now=now,
    )


@dataclass(frozen=True)
class ProjectRow:
    """A project in a list: its API view and its owner (which the view leaves out)."""

    project: ProjectOut
    owner: str


@dataclass(frozen=True)
class ProjectList:
    """One page of projects and the cursor of the next."""

    items: list[ProjectRow]
    next_cursor: str | None


def _after(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return decode_project_cursor(cursor)
    except RequestRejected as exc:
        raise PageError(400, "Bad page link", exc.message) from None


async def _page(
    session: AsyncSession,
    *,
    query: str | None,
    status: str | None,
    error_code: str | None,
    cursor: str | None,
) -> ProjectList:
    found = await ops_repository.find_projects(
        session,
        query=query,
        status=status,
        error_code=error_code,
        limit=PAGE_SIZE,
        after=_after(cursor),
    )
    states = await repository.secret_states_of(session, [p.id for p in found.items])
    items = [ProjectRow(ProjectOut.build(p, states[p.id]), p.owner) for p in found.items]
    next_cursor = encode_project_cursor(found.next_after) if found.next_after else None
    return ProjectList(items, next_cursor)


@dataclass(frozen=True)
class FailedView:
    """The failed projects, by error code, and one page of them (of one code, if chosen)."""

    groups: list[FailedGroup]
    code: str | None
    page: ProjectList


async def failed_view(session: AsyncSession, *, code: str | None, cursor: str | None) -> FailedView:
    """The failures page."""
    groups = await ops_repository.failed_groups(session)
    page = await _page(session, query=None, status="repo_failed", error_code=code, cursor=cursor)
    return FailedView(groups, code, page)


def status_filter(status: str | None) -> str | None:
    """A listing's status filter, or a 400 page naming the statuses."""
    if not status:
        return None
    if status not in STATUSES:
        raise PageError(400, "Unknown status", f"status must be one of {', '.join(STATUSES)}")
    return status


async def find_view(
    session: AsyncSession, *, query: str | None, status: str | None, cursor: str | None
) -> ProjectList:
    """Projects matching a search (id, owner, or part of a name), newest first."""
    if query is not None and len(query) > 200:
        raise PageError(400, "Search too long", "search for at most 200 characters")
    return await _page(
        session, query=query or None, status=status_filter(status), error_code=None, cursor=cursor
    )


@dataclass(frozen=True)
class ProjectView:
    """One project with its secrets' and settings' outcomes and its history."""

    project: ProjectOut
    owner: str
    repository_settings: dict[str, Any]
    secret_errors: dict[str, str]
    settings: list[ProjectSetting]
    events: list[ProjectEvent]
    more_events: bool


def project_id_from(text: str) -> uuid.UUID:
    """A project id from a URL, or a 404 page."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise PageError(404, "No such project", f"{text[:60]!r} is not a project id") from None


async def project_view(session: AsyncSession, project_id: uuid.UUID) -> ProjectView:
    """The project page's content, or a 404 page."""
    project: Project | None = await repository.get_project(session, project_id)
    if project is None:
        raise PageError(404, "No such project", f"there is no project {project_id}")
    states = await repository.secret_states(session, project.id)
    events = await repository.list_events(session, project.id, limit=EVENTS_SHOWN + 1)
    return ProjectView(
        project=ProjectOut.build(project, states),
        owner=project.owner,
        repository_settings=dict(project.repository_settings or {}),
        secret_errors=await ops_repository.secret_errors(session, project.id),
        settings=[
            row
            for _, row in sorted((await settings_rows.setting_rows(session, project.id)).items())
        ],
        events=events[:EVENTS_SHOWN],
        more_events=len(events) > EVENTS_SHOWN,
    )

"""``GET /api/budget`` (ops): how much of GitHub the fleet uses, and who is waiting."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, Resources, ResourcesDep
from api.errors import error_responses
from shared.auth.principal import Action, authorize
from shared.budget.models import BudgetSnapshot, PauseScope
from shared.errors import RequestRejected

__all__ = ["BudgetOut", "read_budget", "router"]

router = APIRouter(prefix="/api", tags=["ops"])


class PauseOut(BaseModel):
    """A fleet pause in force."""

    scope: str = Field(description="`all` requests, or `writes` only.")
    reason: str
    until: datetime


class OwnerQueue(BaseModel):
    """An owner's projects waiting for a dispatch slot."""

    owner: str
    waiting: int


class BudgetOut(BaseModel):
    """The fleet's GitHub budget right now."""

    writes_last_minute: int
    writes_last_hour: int
    writes_per_minute: int = Field(description="GITHUB_WRITES_PER_MINUTE")
    writes_per_hour: int = Field(description="GITHUB_WRITES_PER_HOUR")
    writes_scheduled: int = Field(description="Writes holding a future slot.")
    in_flight: int
    max_in_flight: int = Field(description="GITHUB_MAX_IN_FLIGHT")
    pause: PauseOut | None = Field(description="The pause that stops writes longest, if any.")
    primary_remaining: int | None = Field(description="GitHub's x-ratelimit-remaining (core).")
    queue_waiting: int = Field(description="Projects waiting for a dispatch slot.")
    queue_by_owner: list[OwnerQueue] = Field(description="The 10 owners with most waiting.")

    @classmethod
    def build(cls, snapshot: BudgetSnapshot, waiting: int, by_owner: list[OwnerQueue]) -> BudgetOut:
        """The view of one snapshot and the fair queue's depths."""
        pause = snapshot.pause_for(PauseScope.WRITES)
        core = next((p for p in snapshot.primary if p.resource == "core"), None)
        return cls(
            writes_last_minute=snapshot.writes_last_minute,
            writes_last_hour=snapshot.writes_last_hour,
            writes_per_minute=snapshot.writes_per_minute,
            writes_per_hour=snapshot.writes_per_hour,
            writes_scheduled=snapshot.writes_scheduled,
            in_flight=snapshot.in_flight,
            max_in_flight=snapshot.max_in_flight,
            pause=PauseOut(
                scope=str(pause.scope),
                reason=pause.reason,
                until=datetime.fromtimestamp(pause.until, UTC),
            )
            if pause is not None
            else None,
            primary_remaining=core.remaining if core is not None else None,
            queue_waiting=waiting,
            queue_by_owner=by_owner,
        )


@router.get(
    "/budget",
    response_model=BudgetOut,
    responses=error_responses(401, 403, 500, 503),
    summary="The fleet's GitHub budget and queue",
)
async def get_budget(principal: PrincipalDep, resources: ResourcesDep) -> BudgetOut:
    """Writes used in the last minute and hour against the limits, any pause and why,
    requests in flight, and the projects waiting per owner (ops only)."""
    authorize(principal, Action.OPERATE)
    budget = await read_budget(resources)
    if budget is None:
        raise RequestRejected(503, "github_not_configured", "no GitHub App is configured")
    return budget


async def read_budget(resources: Resources) -> BudgetOut | None:
    """The budget's view now (``GET /api/budget``, the ops console); None without a GitHub App."""
    if resources.budget is None:
        return None
    snapshot = await resources.budget.snapshot()
    depths = await resources.fair.depth_by_owner(10)
    waiting = await resources.fair.waiting_count()
    by_owner = [OwnerQueue(owner=d.owner, waiting=d.waiting) for d in depths]
    return BudgetOut.build(snapshot, waiting, by_owner)

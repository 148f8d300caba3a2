"""The fleet budget as the GitHub client's gate: ``shared.budget`` behind ``RequestGate``.

The two packages know nothing of each other; this bridge turns the budget's
:class:`~shared.budget.models.BudgetWait` into the client's
:class:`~shared.github.errors.WaitForBudget`, which a job treats as a pause.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from shared.budget.budget import GitHubBudget
from shared.budget.config import BudgetConfig
from shared.budget.models import BudgetWait, Permit, WaitReason
from shared.github.errors import WaitForBudget
from shared.settings import GitHubSettings

__all__ = ["BudgetGate", "budget_config"]

_WHAT = {
    WaitReason.WRITES_PER_MINUTE: "GitHub's write budget (per minute)",
    WaitReason.WRITES_PER_HOUR: "GitHub's write budget (per hour)",
    WaitReason.WRITE_QUEUE: "GitHub's write budget",
    WaitReason.IN_FLIGHT: "a free slot among the fleet's requests in flight",
    WaitReason.PAUSED: "the fleet's pause on GitHub requests",
}


def budget_config(settings: GitHubSettings) -> BudgetConfig:
    """The budget every process of the fleet shares for this App on this GitHub (a GitHub
    Enterprise Server, or a sandbox, has limits of its own)."""
    host = urlsplit(settings.api_url).netloc
    return BudgetConfig(
        writes_per_minute=settings.writes_per_minute,
        writes_per_hour=settings.writes_per_hour,
        max_in_flight=settings.max_in_flight,
        primary_floor=settings.primary_floor,
        lease_s=max(30.0, settings.timeout_s * 3),
        key_prefix=f"{{github-budget:{settings.app_id or 'none'}@{host}}}:",
    )


class BudgetGate:
    """Every GitHub request of this process draws from ``budget``."""

    def __init__(
        self, budget: GitHubBudget, *, on_wait: Callable[[float], None] | None = None
    ) -> None:
        self.budget = budget
        self._on_wait = on_wait

    async def acquire(self, method: str, *, max_wait_s: float) -> Permit:
        """A permit, or :class:`WaitForBudget` when the wait would exceed ``max_wait_s``."""
        try:
            permit = await self.budget.acquire(method, max_wait_s=max_wait_s)
        except BudgetWait as wait:
            until = datetime.now(UTC) + timedelta(seconds=wait.wait_s)
            why = f": {wait.detail}" if wait.detail else ""
            raise WaitForBudget(
                f"waiting for {_WHAT[wait.reason]} until {until:%H:%M:%S}Z{why}",
                wait_s=wait.wait_s,
                reason=wait.reason.value,
            ) from None
        if self._on_wait is not None:
            self._on_wait(permit.waited_s)
        return permit

    async def release(
        self,
        permit: Permit,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
    ) -> None:
        """Give the permit back; the answer updates the fleet's view of GitHub's limits."""
        await self.budget.release(permit, response_headers, status, rate_limited=rate_limited)

"""A job that meets an exhausted GitHub budget defers itself: no attempt spent, no request
repeated, the wait named in the project's history (real worker, Redis budget, sandbox)."""

from __future__ import annotations

import dataclasses
import secrets

import pytest

from sandbox import GitHubSandbox
from shared.budget.budget import GitHubBudget
from shared.budget.config import BudgetConfig
from shared.github.client import GitHubClient
from shared.github_budget import BudgetGate
from shared.provisioning.steps import Provisioner
from tests.github_fixtures import ORG, Clock, github_config, no_sleep
from tests.worker_fixtures import WorkerHarness

pytestmark = pytest.mark.integration

REPO = f"/repos/{ORG}/testovyi-bot"


async def test_an_exhausted_budget_defers_the_job_without_spending_an_attempt(
    harness: WorkerHarness,
    github_sandbox: GitHubSandbox,
    sandbox_url: str,
    app_key_pem: bytes,
    clock: Clock,
) -> None:
    tight = BudgetConfig(
        writes_per_minute=2, minute_window_s=0.5, writes_per_hour=1000,
        safety_margin_s=0.1, start_tolerance_s=0.05,
        key_prefix=f"{{budget-test:{secrets.token_hex(4)}}}:",
    )  # fmt: skip
    gate = BudgetGate(GitHubBudget(harness.queue, tight))
    async with GitHubClient(
        github_config(sandbox_url, app_key_pem), clock=clock, sleep=no_sleep, gate=gate,
        max_wait_s=0,
    ) as github:  # fmt: skip
        harness.state = dataclasses.replace(
            harness.state,
            github=github,
            provisioner=Provisioner(github, sleep=no_sleep, visibility_delays_s=(0, 0)),
        )
        project_id = await harness.create(secrets={"A_KEY": "a", "B_KEY": "b"})
        await harness.run()

    project = await harness.project(project_id)
    assert project.status == "ready"
    assert project.attempts == 1  # deferrals are not attempts
    events = await harness.events(project_id)
    assert events.count("deferred") >= 1
    assert "github_error" not in events
    history = await harness.event_data(project_id, "deferred")
    assert all("waiting for GitHub's write budget" in e["message"] for e in history)
    assert github_sandbox.count("POST", r"^/orgs/acme/repos$") == 1
    assert github_sandbox.count("PUT", rf"^{REPO}/contents/") == 1
    assert github_sandbox.count("GET", rf"^{REPO}/actions/secrets/public-key$") == 1
    assert github_sandbox.count("PUT", rf"^{REPO}/actions/secrets/") == 2

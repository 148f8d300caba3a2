"""``GET /api/budget``, the budget gauges on ``/metrics``, and a deferral in a project's view."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.budget.budget import GitHubBudget
from shared.budget.config import BudgetConfig
from shared.crypto import SecretsCipher
from tests.api.helpers import bearer, body, make_deferred
from tests.api_fixtures import ApiTokens, app_serving, resources_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def budget(api_queue: ArqRedis) -> AsyncIterator[GitHubBudget]:
    config = BudgetConfig(key_prefix=f"{{budget-api-test:{secrets.token_hex(4)}}}:")
    yield GitHubBudget(api_queue, config)
    keys = await api_queue.keys(f"{config.key_prefix}*")
    if keys:
        await api_queue.delete(*keys)


@pytest.fixture
async def budget_client(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
    budget: GitHubBudget,
) -> AsyncIterator[httpx.AsyncClient]:
    app = app_serving(resources_for(db_sessionmaker, api_queue, api_cipher, budget=budget))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def test_ops_see_the_budget_the_pause_and_the_queue_by_owner(
    budget_client: httpx.AsyncClient, api_tokens: ApiTokens, budget: GitHubBudget
) -> None:
    for _ in range(3):
        permit = await budget.acquire("PUT", max_wait_s=0)
        await budget.release(permit, {}, 201)
    await budget.pause(45, "secondary rate limit on PUT /repos/{owner}/{repo}/contents/{path}")
    for _ in range(6):  # four get dispatch slots, two wait
        created = await budget_client.post(
            "/api/projects/", json=body(), headers=bearer(api_tokens.alice)
        )
        assert created.status_code == 202

    answer = await budget_client.get("/api/budget", headers=bearer(api_tokens.ops))

    assert answer.status_code == 200
    view = answer.json()
    assert (view["writes_last_minute"], view["writes_last_hour"]) == (3, 3)
    assert (view["writes_per_minute"], view["writes_per_hour"]) == (80, 500)
    assert (view["in_flight"], view["max_in_flight"]) == (0, 10)
    assert view["pause"]["reason"].startswith("secondary rate limit")
    assert view["queue_waiting"] == 2
    assert view["queue_by_owner"] == [{"owner": "alice", "waiting": 2}]


async def test_only_ops_may_look(
    budget_client: httpx.AsyncClient, api_tokens: ApiTokens, api_client: httpx.AsyncClient
) -> None:
    for token in (api_tokens.alice, api_tokens.service):
        refused = await budget_client.get("/api/budget", headers=bearer(token))
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
    assert (await budget_client.get("/api/budget")).status_code == 401
    without_app = await api_client.get("/api/budget", headers=bearer(api_tokens.ops))
    assert without_app.status_code == 503


async def test_metrics_carry_the_budget_gauges(
    budget_client: httpx.AsyncClient, budget: GitHubBudget
) -> None:
    permit = await budget.acquire("POST", max_wait_s=0)
    await budget.release(permit, {}, 201)
    text = (await budget_client.get("/metrics")).text
    assert "provisioner_github_budget_writes_last_minute 1.0" in text
    assert "provisioner_github_budget_writes_per_minute_limit 80.0" in text


async def test_a_deferred_project_says_what_it_waits_for(
    budget_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    created = await budget_client.post(
        "/api/projects/", json=body(), headers=bearer(api_tokens.alice)
    )
    project_id = created.json()["id"]
    reason = "waiting for GitHub's write budget (per minute) until 12:00:03Z"
    await make_deferred(db_sessionmaker, project_id, reason)

    shown = (
        await budget_client.get(f"/api/projects/{project_id}", headers=bearer(api_tokens.alice))
    ).json()

    assert shown["status"] == "provisioning"
    assert shown["waiting"]["reason"] == reason
    assert shown["waiting"]["until"]
    assert shown["attempts"] == 0  # a wait is not an attempt
    events = (
        await budget_client.get(
            f"/api/projects/{project_id}/events", headers=bearer(api_tokens.alice)
        )
    ).json()["items"]
    assert events[-1]["kind"] == "deferred" and events[-1]["data"]["message"] == reason

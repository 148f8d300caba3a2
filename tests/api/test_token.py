"""POST /api/projects/{id}/token: answers when GitHub or its configuration is not there."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandbox import GitHubSandbox
from shared.crypto import SecretsCipher
from shared.github.client import GitHubClient
from shared.projects.repo_tokens import RepoTokenMinter
from shared.settings import DEFAULT_AGENT_PERMISSIONS
from tests.api.helpers import bearer, body, make_ready
from tests.api_fixtures import ApiTokens, app_serving, resources_for
from tests.db.helpers import FakeRepo
from tests.github_fixtures import ORG

pytestmark = pytest.mark.integration


@pytest.fixture
async def minting_client(
    db_sessionmaker: async_sessionmaker[AsyncSession],
    api_queue: ArqRedis,
    api_cipher: SecretsCipher,
    github: GitHubClient,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a token minter on the sandbox."""
    minter = RepoTokenMinter(github, DEFAULT_AGENT_PERMISSIONS)
    app = app_serving(resources_for(db_sessionmaker, api_queue, api_cipher, tokens=minter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def _ready(
    client: httpx.AsyncClient,
    tokens: ApiTokens,
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: GitHubSandbox | None = None,
) -> uuid.UUID:
    """A project marked ready with ``FakeRepo`` (created in ``sandbox`` when given)."""
    repo = FakeRepo()
    if sandbox is not None:
        made = sandbox.add_repository(ORG, FakeRepo.full_name.split("/")[1])
        repo = FakeRepo(id=made.id)
    created = await client.post("/api/projects/", json=body(), headers=bearer(tokens.alice))
    project_id = uuid.UUID(created.json()["id"])
    await make_ready(sessionmaker, project_id, repo)
    return project_id


async def test_minted_token_names_its_repository_and_is_not_cached(
    minting_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github_sandbox: GitHubSandbox,
) -> None:
    project_id = await _ready(minting_client, api_tokens, db_sessionmaker, github_sandbox)
    answer = await minting_client.post(
        f"/api/projects/{project_id}/token", headers=bearer(api_tokens.alice)
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    minted = answer.json()
    assert minted["repository"] == "acme/demo"
    assert minted["permissions"] == dict(DEFAULT_AGENT_PERMISSIONS)
    assert minted["token"].startswith("ghs_")


async def test_github_refusal_is_502_and_outage_is_503_with_retry_after(
    minting_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github_sandbox: GitHubSandbox,
) -> None:
    project_id = await _ready(minting_client, api_tokens, db_sessionmaker, github_sandbox)
    url = f"/api/projects/{project_id}/token"
    missing = {"message": "There is at least one repository that does not exist"}
    github_sandbox.fail_next("POST", r"/access_tokens$", status=422, body=missing)
    refused = await minting_client.post(url, headers=bearer(api_tokens.service))
    assert refused.status_code == 502
    assert refused.json()["error"] == "github_validation_failed"
    github_sandbox.fail_next("POST", r"/access_tokens$", status=503, times=3)
    outage = await minting_client.post(url, headers=bearer(api_tokens.service))
    assert outage.status_code == 503
    assert outage.json()["error"] == "github_server_error"
    assert outage.headers["retry-after"] == "5"


async def test_without_a_github_app_it_is_503(
    api_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await _ready(api_client, api_tokens, db_sessionmaker)
    answer = await api_client.post(
        f"/api/projects/{project_id}/token", headers=bearer(api_tokens.alice)
    )
    assert answer.status_code == 503
    assert answer.json()["error"] == "github_not_configured"


async def test_not_ready_is_409_with_the_status(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    created = await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.bob))
    answer = await api_client.post(
        f"/api/projects/{created.json()['id']}/token", headers=bearer(api_tokens.bob)
    )
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "not_ready",
        "detail": "the project is pending_repo, not ready yet",
    }


async def test_mint_request_names_the_repository_by_its_id(
    minting_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github_sandbox: GitHubSandbox,
) -> None:
    project_id = await _ready(minting_client, api_tokens, db_sessionmaker, github_sandbox)
    repo_id = next(r.id for r in github_sandbox.repositories if r.name == "demo")
    answer = await minting_client.post(
        f"/api/projects/{project_id}/token", headers=bearer(api_tokens.service)
    )
    assert answer.status_code == 201, answer.text
    mints = [
        r
        for r in github_sandbox.requests
        if r.method == "POST" and r.path.endswith("/access_tokens")
    ]
    assert mints[-1].json["repository_ids"] == [repo_id]
    assert "repositories" not in mints[-1].json


async def test_a_repository_recreated_under_the_name_is_not_reached(
    minting_client: httpx.AsyncClient,
    api_tokens: ApiTokens,
    db_sessionmaker: async_sessionmaker[AsyncSession],
    github_sandbox: GitHubSandbox,
) -> None:
    github_sandbox.add_repository(ORG, "demo")  # same name, another id than the project's
    created = await minting_client.post(
        "/api/projects/", json=body(), headers=bearer(api_tokens.alice)
    )
    project_id = uuid.UUID(created.json()["id"])
    await make_ready(db_sessionmaker, project_id, FakeRepo())
    answer = await minting_client.post(
        f"/api/projects/{project_id}/token", headers=bearer(api_tokens.alice)
    )
    assert answer.status_code == 502, answer.text

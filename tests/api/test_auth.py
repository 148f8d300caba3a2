"""Who may do what: every endpoint for every kind of caller."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import bearer, body
from tests.api_fixtures import ApiTokens

CALLERS = ["nobody", "not_bearer", "unknown", "revoked", "owner", "other_user", "ops", "service"]

# endpoint → expected status per caller (401 for the first four everywhere).
EXPECTED: dict[str, dict[str, int]] = {
    "create": {"owner": 202, "other_user": 202, "ops": 202, "service": 403},
    "get": {"owner": 200, "other_user": 404, "ops": 200, "service": 200},
    "list": {"owner": 200, "other_user": 200, "ops": 200, "service": 200},
    "events": {"owner": 200, "other_user": 404, "ops": 200, "service": 200},
    "retry": {"owner": 403, "other_user": 403, "ops": 202, "service": 403},
}


def _headers(caller: str, tokens: ApiTokens) -> dict[str, str]:
    return {
        "nobody": {},
        "not_bearer": {"Authorization": f"Basic {tokens.alice}"},
        "unknown": bearer("prv_not-a-token-we-know"),
        "revoked": bearer(tokens.revoked),
        "owner": bearer(tokens.alice),
        "other_user": bearer(tokens.bob),
        "ops": bearer(tokens.ops),
        "service": bearer(tokens.service),
    }[caller]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(EXPECTED))
async def test_access(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens, endpoint: str, caller: str
) -> None:
    created = await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.alice))
    project_id = created.json()["id"]
    requests: dict[str, dict[str, Any]] = {
        "create": {"method": "POST", "url": "/api/projects/", "json": body()},
        "get": {"method": "GET", "url": f"/api/projects/{project_id}"},
        "list": {"method": "GET", "url": "/api/projects"},
        "events": {"method": "GET", "url": f"/api/projects/{project_id}/events"},
        "retry": {"method": "POST", "url": f"/api/projects/{project_id}/retry"},
    }
    request = requests[endpoint]

    response = await api_client.request(**request, headers=_headers(caller, api_tokens))

    expected = EXPECTED[endpoint].get(caller, 401)
    assert response.status_code == expected, response.text
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"] == "not_authenticated"
    elif expected in (403, 404):
        assert response.json()["error"] in ("forbidden", "not_found")
    if endpoint == "list" and expected == 200:
        visible = [item["id"] for item in response.json()["items"]]
        assert visible == ([] if caller == "other_user" else [project_id])


async def test_project_belongs_to_the_token_subject(
    api_client: httpx.AsyncClient, api_tokens: ApiTokens
) -> None:
    by_ops = await api_client.post("/api/projects/", json=body(), headers=bearer(api_tokens.ops))

    as_alice = await api_client.get(
        f"/api/projects/{by_ops.json()['id']}", headers=bearer(api_tokens.alice)
    )
    assert as_alice.status_code == 404

"""Actions variables: 201 then 409, names like secrets, size and count limits, pagination."""

from __future__ import annotations

import httpx
import pytest

from sandbox import GitHubSandbox
from sandbox.models import VariableRecord
from sandbox.names import MAX_VARIABLES
from tests.sandbox.conftest import ORG

VARS = "/repos/acme/r/actions/variables"


@pytest.fixture
def repo(sandbox: GitHubSandbox) -> None:
    sandbox.add_repository(ORG, "r")


async def test_create_get_update_delete(
    client: httpx.AsyncClient, repo: None, auth: dict[str, str]
) -> None:
    r = await client.post(VARS, headers=auth, json={"name": "region", "value": "eu"})
    assert (r.status_code, r.json()) == (201, {})
    r = await client.post(VARS, headers=auth, json={"name": "REGION", "value": "us"})
    assert r.status_code == 409  # names are case-insensitive
    got = (await client.get(f"{VARS}/Region", headers=auth)).json()
    assert (got["name"], got["value"]) == ("REGION", "eu")
    assert (
        await client.patch(f"{VARS}/REGION", headers=auth, json={"value": "us"})
    ).status_code == 204
    assert (await client.get(f"{VARS}/REGION", headers=auth)).json()["value"] == "us"
    r = await client.patch(f"{VARS}/REGION", headers=auth, json={"name": "zone"})
    assert r.status_code == 204
    assert (await client.get(f"{VARS}/REGION", headers=auth)).status_code == 404
    assert (await client.get(f"{VARS}/ZONE", headers=auth)).json()["value"] == "us"
    assert (await client.delete(f"{VARS}/zone", headers=auth)).status_code == 204
    assert (await client.delete(f"{VARS}/zone", headers=auth)).status_code == 404
    assert (await client.get(VARS, headers=auth)).json() == {"total_count": 0, "variables": []}


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "github_x", "1ST", "has-dash", "sp ace"])
async def test_names_follow_the_secret_rules(
    client: httpx.AsyncClient, repo: None, auth: dict[str, str], name: str
) -> None:
    r = await client.post(VARS, headers=auth, json={"name": name, "value": "v"})
    assert r.status_code == 422


async def test_value_size_and_count_limits(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, repo: None, auth: dict[str, str]
) -> None:
    big = "x" * (48 * 1024 + 1)
    assert (
        await client.post(VARS, headers=auth, json={"name": "BIG", "value": big})
    ).status_code == 422
    ok = {"name": "FITS", "value": big[:-1]}
    assert (await client.post(VARS, headers=auth, json=ok)).status_code == 201
    r = await client.patch(f"{VARS}/FITS", headers=auth, json={"value": big})
    assert r.status_code == 422
    stored = sandbox.repository(ORG, "r")
    assert stored is not None
    for n in range(MAX_VARIABLES - 1):
        stored.variables[f"V{n}"] = VariableRecord(f"V{n}", "1", 0.0, 0.0)
    r = await client.post(VARS, headers=auth, json={"name": "ONE_TOO_MANY", "value": "1"})
    assert r.status_code == 422


async def test_list_is_paginated_like_github(
    client: httpx.AsyncClient, repo: None, auth: dict[str, str]
) -> None:
    for n in range(35):
        await client.post(VARS, headers=auth, json={"name": f"V{n:02d}", "value": str(n)})
    first = await client.get(VARS, headers=auth)
    assert (first.json()["total_count"], len(first.json()["variables"])) == (35, 10)
    assert 'rel="next"' in first.headers["link"]
    most = await client.get(VARS, headers=auth, params={"per_page": 100, "page": 2})
    assert [v["name"] for v in most.json()["variables"]] == [f"V{n:02d}" for n in range(30, 35)]

"""Topics (GitHub's rules) and custom properties (the org schema, a repository's values)."""

from __future__ import annotations

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG


@pytest.fixture
def repo(sandbox: GitHubSandbox) -> str:
    sandbox.add_repository(ORG, "r")
    return "/repos/acme/r"


async def test_topics_replace_all(
    client: httpx.AsyncClient, auth: dict[str, str], repo: str
) -> None:
    assert (await client.get(f"{repo}/topics", headers=auth)).json() == {"names": []}
    r = await client.put(f"{repo}/topics", headers=auth, json={"names": ["Python", "api", "api"]})
    assert (r.status_code, r.json()) == (200, {"names": ["python", "api"]})
    r = await client.put(f"{repo}/topics", headers=auth, json={"names": ["go"]})
    assert (await client.get(f"{repo}/topics", headers=auth)).json() == {"names": ["go"]}
    assert (await client.get(repo, headers=auth)).json()["topics"] == ["go"]
    r = await client.put(f"{repo}/topics", headers=auth, json={"names": []})
    assert r.json() == {"names": []}


@pytest.mark.parametrize(
    "names",
    [
        [f"t{n}" for n in range(21)],
        ["under_score"],
        ["-leading"],
        ["a" * 51],
        ["with space"],
    ],
)
async def test_topic_rules(
    client: httpx.AsyncClient, auth: dict[str, str], repo: str, names: list[str]
) -> None:
    await client.put(f"{repo}/topics", headers=auth, json={"names": ["kept"]})
    r = await client.put(f"{repo}/topics", headers=auth, json={"names": names})
    assert r.status_code == 422
    assert r.json()["message"] == "Validation Failed"
    assert isinstance(r.json()["errors"][0], str)
    assert (await client.get(f"{repo}/topics", headers=auth)).json() == {"names": ["kept"]}


async def test_twenty_topics_of_fifty_characters_fit(
    client: httpx.AsyncClient, auth: dict[str, str], repo: str
) -> None:
    names = [f"{n:02d}" + "a" * 48 for n in range(20)]
    assert (
        await client.put(f"{repo}/topics", headers=auth, json={"names": names})
    ).status_code == 200


async def test_property_schema(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    sandbox.define_property(ORG, "team", required=True, default_value="platform")
    r = await client.get("/orgs/acme/properties/schema", headers=auth)
    assert r.status_code == 200
    by_name = {p["property_name"]: p for p in r.json()}
    assert by_name["tier"]["allowed_values"] == ["gold", "silver"]
    assert (by_name["team"]["required"], by_name["team"]["default_value"]) == (True, "platform")
    sandbox.add_installation("other")
    assert (await client.get("/orgs/other/properties/schema", headers=auth)).status_code == 404


async def test_property_values(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], repo: str
) -> None:
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    sandbox.define_property(ORG, "langs", "multi_select", allowed_values=["py", "go"])
    sandbox.define_property(ORG, "public", "true_false")
    values = [
        {"property_name": "tier", "value": "gold"},
        {"property_name": "LANGS", "value": ["py", "go"]},
        {"property_name": "public", "value": "false"},
    ]
    r = await client.patch(f"{repo}/properties/values", headers=auth, json={"properties": values})
    assert r.status_code == 204
    got = (await client.get(f"{repo}/properties/values", headers=auth)).json()
    assert {v["property_name"]: v["value"] for v in got} == {
        "tier": "gold",
        "langs": ["py", "go"],
        "public": "false",
    }
    unset = {"properties": [{"property_name": "tier", "value": None}]}
    assert (
        await client.patch(f"{repo}/properties/values", headers=auth, json=unset)
    ).status_code == 204
    repository = sandbox.repository(ORG, "r")
    assert repository is not None
    assert repository.custom_properties == {"langs": ["py", "go"], "public": "false"}
    assert sandbox.spec_violations == []  # null unsets, as the operation's text says


@pytest.mark.parametrize(
    "item",
    [
        {"property_name": "nope", "value": "x"},
        {"property_name": "tier", "value": "bronze"},
        {"property_name": "public", "value": "yes"},
        {"property_name": "team", "value": None},
    ],
)
async def test_property_refusals_change_nothing(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    auth: dict[str, str],
    repo: str,
    item: dict[str, object],
) -> None:
    sandbox.define_property(ORG, "tier", "single_select", allowed_values=["gold", "silver"])
    sandbox.define_property(ORG, "public", "true_false")
    sandbox.define_property(ORG, "team", required=True, default_value="platform")
    body = {"properties": [{"property_name": "tier", "value": "gold"}, item]}
    r = await client.patch(f"{repo}/properties/values", headers=auth, json=body)
    assert r.status_code == 422
    got = (await client.get(f"{repo}/properties/values", headers=auth)).json()
    assert "tier" not in {v["property_name"] for v in got}

"""Actions secrets: a real sealed-box round trip and every rule GitHub enforces."""

from __future__ import annotations

import base64

import httpx
import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

BASE = "/repos/acme/r/actions/secrets"


async def seal(client: httpx.AsyncClient, auth: dict[str, str], value: str) -> dict[str, str]:
    key = (await client.get(f"{BASE}/public-key", headers=auth)).json()
    box = SealedBox(PublicKey(base64.b64decode(key["key"])))
    return {
        "encrypted_value": base64.b64encode(box.encrypt(value.encode())).decode(),
        "key_id": key["key_id"],
    }


@pytest.fixture
def repo(sandbox: GitHubSandbox) -> None:
    sandbox.add_repository(ORG, "r")


@pytest.mark.usefixtures("repo")
async def test_round_trip_create_update_list(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.put(f"{BASE}/db_password", headers=auth, json=await seal(client, auth, "s3"))
    assert r.status_code == 201
    r = await client.put(f"{BASE}/DB_PASSWORD", headers=auth, json=await seal(client, auth, "s4"))
    assert r.status_code == 204
    stored = sandbox.repository(ORG, "r")
    assert stored is not None
    assert stored.secrets == {"DB_PASSWORD": "s4"}
    r = await client.get(BASE, headers=auth)
    assert r.json()["total_count"] == 1
    assert set(r.json()["secrets"][0]) == {"name", "created_at", "updated_at"}


@pytest.mark.usefixtures("repo")
@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "github_x", "1ABC", "BAD-NAME", "spa ce"])
async def test_bad_names_are_422(
    client: httpx.AsyncClient, auth: dict[str, str], name: str
) -> None:
    r = await client.put(f"{BASE}/{name}", headers=auth, json=await seal(client, auth, "v"))
    assert r.status_code == 422


@pytest.mark.usefixtures("repo")
async def test_wrong_key_id_and_undecryptable_value(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    body = await seal(client, auth, "v")
    r = await client.put(f"{BASE}/A", headers=auth, json={**body, "key_id": "1"})
    assert r.status_code == 422
    foreign = SealedBox(PrivateKey.generate().public_key).encrypt(b"v")
    bad = {"encrypted_value": base64.b64encode(foreign).decode(), "key_id": body["key_id"]}
    r = await client.put(f"{BASE}/A", headers=auth, json=bad)
    assert r.status_code == 422
    assert sandbox.repository(ORG, "r").secrets == {}  # type: ignore[union-attr]


@pytest.mark.usefixtures("repo")
async def test_value_size_limit(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    ok = await client.put(
        f"{BASE}/BIG", headers=auth, json=await seal(client, auth, "x" * 48 * 1024)
    )
    assert ok.status_code == 201
    r = await client.put(
        f"{BASE}/BIGGER", headers=auth, json=await seal(client, auth, "x" * (48 * 1024 + 1))
    )
    assert r.status_code == 422


@pytest.mark.usefixtures("repo")
async def test_at_most_100_secrets(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    body = await seal(client, auth, "v")
    for i in range(100):
        assert (await client.put(f"{BASE}/S{i}", headers=auth, json=body)).status_code == 201
    assert (await client.put(f"{BASE}/S100", headers=auth, json=body)).status_code == 422
    assert (await client.put(f"{BASE}/S5", headers=auth, json=body)).status_code == 204
    page = await client.get(BASE, headers=auth, params={"per_page": 30, "page": 4})
    assert len(page.json()["secrets"]) == 10
    assert "prev" in page.links


@pytest.mark.usefixtures("repo")
async def test_get_and_delete_one_secret(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    assert (await client.get(f"{BASE}/TOKEN", headers=auth)).status_code == 404
    await client.put(f"{BASE}/token", headers=auth, json=await seal(client, auth, "v"))
    r = await client.get(f"{BASE}/Token", headers=auth)
    assert (r.status_code, r.json()["name"]) == (200, "TOKEN")
    assert "value" not in r.json()
    assert (await client.delete(f"{BASE}/TOKEN", headers=auth)).status_code == 204
    assert (await client.delete(f"{BASE}/TOKEN", headers=auth)).status_code == 404
    stored = sandbox.repository(ORG, "r")
    assert stored is not None
    assert stored.secrets == {}

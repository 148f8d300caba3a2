"""Collaborators: invitations until accepted, updates, organization members, removal."""

from __future__ import annotations

import httpx
import pytest

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

ALICE = "/repos/acme/r/collaborators/alice"


@pytest.fixture
def world(sandbox: GitHubSandbox) -> GitHubSandbox:
    sandbox.add_user("alice")
    sandbox.add_user("bob", member_of=[ORG])
    sandbox.add_repository(ORG, "r")
    return sandbox


async def _logins(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    r = await client.get("/repos/acme/r/collaborators", headers=auth)
    return [c["login"] for c in r.json()]


async def test_invitation_until_accepted(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    r = await client.put(ALICE, headers=auth, json={"permission": "pull"})
    assert r.status_code == 201
    invitation = r.json()
    assert (invitation["invitee"]["login"], invitation["permissions"]) == ("alice", "read")
    assert await _logins(client, auth) == []  # pending is not a collaborator
    assert (await client.get(ALICE, headers=auth)).status_code == 404
    r = await client.put(ALICE, headers=auth, json={"permission": "push"})
    assert r.status_code == 201  # still pending: the same invitation, updated
    assert (r.json()["id"], r.json()["permissions"]) == (invitation["id"], "write")
    pending = (await client.get("/repos/acme/r/invitations", headers=auth)).json()
    assert [(i["id"], i["permissions"]) for i in pending] == [(invitation["id"], "write")]
    world.accept_invitation(invitation["id"])
    assert await _logins(client, auth) == ["alice"]
    assert (await client.get(ALICE, headers=auth)).status_code == 204
    assert (await client.get("/repos/acme/r/invitations", headers=auth)).json() == []
    r = await client.put(ALICE, headers=auth, json={"permission": "admin"})
    assert r.status_code == 204  # access exists: the role changes, no invitation
    listed = (await client.get("/repos/acme/r/collaborators", headers=auth)).json()
    assert (listed[0]["role_name"], listed[0]["permissions"]["admin"]) == ("admin", True)


async def test_accept_over_http(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    invitation = (await client.put(ALICE, headers=auth)).json()
    r = await client.post(f"/_sandbox/invitations/{invitation['id']}/accept")
    assert r.status_code == 204
    assert await _logins(client, auth) == ["alice"]
    assert (
        await client.post(f"/_sandbox/invitations/{invitation['id']}/accept")
    ).status_code == 404
    with pytest.raises(KeyError):
        world.accept_invitation(invitation["id"])


async def test_members_are_added_at_once(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    assert (await client.put("/repos/acme/r/collaborators/bob", headers=auth)).status_code == 204
    assert await _logins(client, auth) == ["bob"]
    r = await client.get(
        "/repos/acme/r/collaborators", headers=auth, params={"affiliation": "outside"}
    )
    assert r.json() == []


async def test_invitations_can_be_changed_and_withdrawn(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    invitation = (await client.put(ALICE, headers=auth)).json()
    path = f"/repos/acme/r/invitations/{invitation['id']}"
    r = await client.patch(path, headers=auth, json={"permissions": "maintain"})
    assert (r.status_code, r.json()["permissions"]) == (200, "maintain")
    assert (await client.delete(path, headers=auth)).status_code == 204
    assert (await client.delete(path, headers=auth)).status_code == 404
    assert (await client.patch(path, headers=auth, json={})).status_code == 404
    assert (await client.get("/repos/acme/r/invitations", headers=auth)).json() == []


async def test_remove_also_withdraws_the_invitation(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    await client.put(ALICE, headers=auth)
    assert (await client.delete(ALICE, headers=auth)).status_code == 204
    assert (await client.get("/repos/acme/r/invitations", headers=auth)).json() == []
    await client.put("/repos/acme/r/collaborators/bob", headers=auth)
    assert (await client.delete("/repos/acme/r/collaborators/bob", headers=auth)).status_code == 204
    assert await _logins(client, auth) == []


async def test_refusals(
    client: httpx.AsyncClient, world: GitHubSandbox, auth: dict[str, str]
) -> None:
    assert (await client.put("/repos/acme/r/collaborators/nobody", headers=auth)).status_code == 404
    r = await client.put(ALICE, headers=auth, json={"permission": "owner"})
    assert r.status_code == 422
    assert (
        await client.put("/repos/acme/none/collaborators/alice", headers=auth)
    ).status_code == 404
    assert (await client.get("/repos/acme/r/invitations", headers=auth)).json() == []

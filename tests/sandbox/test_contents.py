"""Contents API: blob shas, the sha rules (201/200/422/409) and commit history."""

from __future__ import annotations

import base64
import hashlib

import httpx

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG

URL = "/repos/acme/r/contents/conf/.project.yaml"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def git_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


async def test_sha_rules(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "r")
    assert (await client.get(URL, headers=auth)).status_code == 404

    r = await client.put(URL, headers=auth, json={"message": "add", "content": b64("a: 1\n")})
    assert r.status_code == 201
    first = r.json()["content"]["sha"]
    assert first == git_sha(b"a: 1\n")

    r = await client.put(URL, headers=auth, json={"message": "again", "content": b64("a: 2\n")})
    assert r.status_code == 422
    assert r.json()["message"] == 'Invalid request.\n\n"sha" wasn\'t supplied.'

    stale = "0" * 40
    r = await client.put(
        URL, headers=auth, json={"message": "m", "content": b64("a: 2\n"), "sha": stale}
    )
    assert r.status_code == 409
    assert r.json()["message"] == f"conf/.project.yaml does not match {stale}"

    r = await client.put(
        URL, headers=auth, json={"message": "update", "content": b64("a: 2\n"), "sha": first}
    )
    assert r.status_code == 200
    assert r.json()["commit"]["message"] == "update"

    r = await client.get(URL, headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert base64.b64decode(body["content"]) == b"a: 2\n"
    assert body["sha"] == git_sha(b"a: 2\n")

    repo = sandbox.repository(ORG, "r")
    assert repo is not None
    assert repo.files == {"conf/.project.yaml": b"a: 2\n"}
    assert [c.message for c in repo.commits] == ["add", "update"]
    assert repo.commits[1].parent == repo.commits[0].sha
    assert repo.commits[1].content_sha == body["sha"]

    old = await client.get(URL, headers=auth, params={"ref": repo.commits[0].sha})
    assert base64.b64decode(old.json()["content"]) == b"a: 1\n"


async def test_required_fields_and_permissions(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "r")
    r = await client.put(URL, headers=auth, json={"content": b64("x")})
    assert r.status_code == 422
    assert '"message" wasn\'t supplied.' in r.json()["message"]
    assert sandbox.repository(ORG, "r").commits == []  # type: ignore[union-attr]


async def test_existing_files_and_author(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "seeded", files={"README.md": "hi\n"})
    r = await client.get("/repos/acme/seeded/contents/README.md", headers=auth)
    assert r.status_code == 200
    r = await client.put(
        "/repos/acme/seeded/contents/x.txt",
        headers=auth,
        json={
            "message": "m",
            "content": b64("x"),
            "committer": {"name": "Bot", "email": "bot@example.com"},
        },
    )
    assert r.status_code == 201
    assert r.json()["commit"]["author"]["name"] == "Bot"


async def test_delete_a_file(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    repo = sandbox.add_repository(ORG, "r", files={"conf/.project.yaml": "a: 1\n", "keep": "k"})
    body = {"message": "rm", "sha": git_sha(b"a: 1\n")}
    stale = await client.request("DELETE", URL, headers=auth, json={**body, "sha": git_sha(b"x")})
    assert stale.status_code == 409
    missing_sha = await client.request("DELETE", URL, headers=auth, json={"message": "rm"})
    assert missing_sha.status_code == 422
    r = await client.request("DELETE", URL, headers=auth, json=body)
    assert (r.status_code, r.json()["content"]) == (200, None)
    assert r.json()["commit"]["message"] == "rm"
    assert list(repo.files) == ["keep"]
    assert (await client.get(URL, headers=auth)).status_code == 404
    assert (await client.request("DELETE", URL, headers=auth, json=body)).status_code == 404
    first = repo.commits[0].sha
    at_first = await client.get(URL, headers=auth, params={"ref": first})
    assert at_first.status_code == 200  # history still has it

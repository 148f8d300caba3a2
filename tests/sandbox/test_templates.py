"""Repositories generated from a template: 201, content that arrives late, refusals."""

from __future__ import annotations

import httpx

from sandbox import GitHubSandbox
from tests.sandbox.conftest import ORG, FakeClock


async def test_generate_copies_the_files_after_the_delay(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.add_repository(
        ORG, "tpl", {"README.md": "# tpl\n", "src/a.py": "A = 1\n"}, is_template=True
    )
    sandbox.faults.template_content_delay_s = 3
    body = {"owner": ORG, "name": "fresh", "description": "from tpl", "private": True}
    r = await client.post("/repos/acme/tpl/generate", headers=auth, json=body)
    assert r.status_code == 201
    assert (r.json()["full_name"], r.json()["private"]) == ("acme/fresh", True)
    assert r.json()["template_repository"]["full_name"] == "acme/tpl"
    assert (await client.get("/repos/acme/fresh", headers=auth)).status_code == 404
    assert (
        await client.get("/repos/acme/fresh/contents/README.md", headers=auth)
    ).status_code == 404
    repo = sandbox.repository(ORG, "fresh")
    assert repo is not None
    assert repo.files == {}
    clock.advance(3)
    r = await client.get("/repos/acme/fresh/contents/src/a.py", headers=auth)
    assert r.status_code == 200
    assert repo.files == {"README.md": b"# tpl\n", "src/a.py": b"A = 1\n"}
    assert (await client.get("/repos/acme/fresh", headers=auth)).json()["is_template"] is False


async def test_generate_without_delay_is_ready_at_once(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "tpl", {"README.md": "x"}, is_template=True)
    r = await client.post("/repos/acme/tpl/generate", headers=auth, json={"name": "now"})
    assert r.status_code == 201
    assert (await client.get("/repos/acme/now/contents/README.md", headers=auth)).status_code == 200


async def test_generate_refusals(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "plain", {"README.md": "x"})
    sandbox.add_repository(ORG, "tpl", {"README.md": "x"}, is_template=True)
    sandbox.add_repository("foreign", "hidden", {"README.md": "x"}, is_template=True)
    sandbox.add_repository("foreign", "open", {"README.md": "x"}, private=False, is_template=True)
    sandbox.add_installation("elsewhere")
    cases = [
        ("/repos/acme/missing/generate", {"name": "n1"}, 404),
        ("/repos/foreign/hidden/generate", {"name": "n2"}, 404),
        ("/repos/acme/plain/generate", {"name": "n3"}, 422),
        ("/repos/acme/tpl/generate", {"name": "tpl"}, 422),
        ("/repos/acme/tpl/generate", {"name": "n4", "owner": "elsewhere"}, 403),
    ]
    for path, body, status in cases:
        r = await client.post(path, headers=auth, json=body)
        assert r.status_code == status, (path, body, r.text)
    assert [r.name for r in sandbox.repositories if r.name.startswith("n")] == []
    r = await client.post("/repos/foreign/open/generate", headers=auth, json={"name": "n5"})
    assert r.status_code == 201  # a public template of another account can be used


async def test_generate_after_template_is_turned_on_by_patch(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.add_repository(ORG, "later", {"README.md": "x"})
    await client.patch("/repos/acme/later", headers=auth, json={"is_template": True})
    r = await client.post("/repos/acme/later/generate", headers=auth, json={"name": "copy"})
    assert r.status_code == 201

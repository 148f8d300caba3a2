"""Primary rate limit headers and exhaustion, /rate_limit, and the secondary limit."""

from __future__ import annotations

import httpx

from sandbox import GitHubSandbox
from tests.sandbox.conftest import FakeClock, Tokens


async def test_headers_count_down_and_reset(
    client: httpx.AsyncClient, auth: dict[str, str], clock: FakeClock
) -> None:
    first = await client.get("/repos/acme/none", headers=auth)
    second = await client.get("/repos/acme/none", headers=auth)
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(second.headers["x-ratelimit-used"]) == int(first.headers["x-ratelimit-used"]) + 1
    assert int(second.headers["x-ratelimit-remaining"]) == 5000 - int(
        second.headers["x-ratelimit-used"]
    )
    reset = int(first.headers["x-ratelimit-reset"])
    assert reset == int(clock()) + 3600
    r = await client.get("/rate_limit", headers=auth)
    assert r.json()["resources"]["core"]["used"] == int(second.headers["x-ratelimit-used"])


async def test_exhaustion_is_403_until_the_window_resets(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, tokens: Tokens, clock: FakeClock
) -> None:
    auth = await tokens.headers()
    installation_id = await tokens.installation_id()
    sandbox.rate_limit = 3
    statuses = [(await client.get("/repos/acme/none", headers=auth)).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 403]
    r = await client.get("/repos/acme/none", headers=auth)
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert r.json()["message"] == f"API rate limit exceeded for installation ID {installation_id}."
    clock.advance(3599)  # same window, still exhausted; then a new window (and token)
    assert (await client.get("/repos/acme/none", headers=auth)).status_code == 403
    clock.advance(1)
    auth = await tokens.headers()
    assert (await client.get("/repos/acme/none", headers=auth)).status_code == 404


async def test_secondary_limit_on_content_creating_requests(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.faults.secondary_limit_per_minute = 2
    for name in ("a", "b"):
        r = await client.post("/orgs/acme/repos", headers=auth, json={"name": name})
        assert r.status_code == 201
    assert (await client.get("/repos/acme/a", headers=auth)).status_code == 200
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "c"})
    assert r.status_code == 403
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert int(r.headers["retry-after"]) == 60
    assert sandbox.repository("acme", "c") is None
    clock.advance(60)
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "c"})
    assert r.status_code == 201

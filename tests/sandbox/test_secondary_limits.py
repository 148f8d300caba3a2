"""GitHub's secondary limits (sliding write windows, concurrency) and the stats they keep."""

from __future__ import annotations

import asyncio

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import Faults, GitHubSandbox, max_in_window
from tests.sandbox.conftest import APP_ID, ORG, FakeClock, Tokens, TokensFor


async def _create(client: httpx.AsyncClient, auth: dict[str, str], name: str) -> httpx.Response:
    return await client.post("/orgs/acme/repos", headers=auth, json={"name": name})


def _secondary(r: httpx.Response) -> bool:
    return r.status_code == 403 and r.json()["message"].startswith(
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    )


async def test_limits_are_off_by_default(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    for n in range(101):
        assert (await _create(client, auth, f"r{n}")).status_code == 201
    stats = sandbox.stats
    assert stats.writes_accepted == 101
    assert stats.max_writes_in(60) == 101
    assert stats.secondary_rejections == {"per_minute": 0, "per_hour": 0, "concurrency": 0}


async def test_minute_window_slides(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.faults.secondary_limit_per_minute = 3
    start = clock()
    for name, at in (("a", 0), ("b", 20), ("c", 40)):
        clock.now = start + at
        assert (await _create(client, auth, name)).status_code == 201
    clock.now = start + 50  # three writes in the last 60 s
    r = await _create(client, auth, "d")
    assert _secondary(r)
    assert r.headers["retry-after"] == "10"  # the write at 0 leaves at 60
    assert r.json()["documentation_url"] == (
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        "#about-secondary-rate-limits"
    )
    assert r.headers["x-github-request-id"] in r.json()["message"]
    assert "x-ratelimit-remaining" in r.headers
    assert sandbox.repository(ORG, "d") is None
    clock.advance(10)  # 60: the write at 0 has left
    assert (await _create(client, auth, "d")).status_code == 201
    clock.advance(10)  # 70: writes at 20, 40, 60 (a fixed minute would have room)
    r = await _create(client, auth, "e")
    assert (_secondary(r), r.headers["retry-after"]) == (True, "10")
    assert sandbox.stats.secondary_rejections["per_minute"] == 2


async def test_hour_window_and_its_retry_after(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, tokens: Tokens, clock: FakeClock
) -> None:
    auth = await tokens.headers()
    sandbox.faults.secondary_limit_per_minute = 80
    sandbox.faults.secondary_limit_per_hour = 2
    assert (await _create(client, auth, "a")).status_code == 201
    clock.advance(600)
    assert (await _create(client, auth, "b")).status_code == 201
    clock.advance(0.5)
    r = await _create(client, auth, "c")
    assert _secondary(r)
    assert r.headers["retry-after"] == "3000"  # 3600 - 600.5, rounded up
    assert sandbox.stats.secondary_rejections == {"per_minute": 0, "per_hour": 1, "concurrency": 0}
    clock.advance(2999.5)
    auth = await tokens.headers()  # the first token has expired by now
    assert (await _create(client, auth, "c")).status_code == 201


async def test_retry_after_is_at_least_one_second(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.faults.secondary_limit_per_minute = 1
    assert (await _create(client, auth, "a")).status_code == 201
    clock.advance(59.9)
    assert (await _create(client, auth, "b")).headers["retry-after"] == "1"


async def test_rejected_writes_do_not_count(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.faults.secondary_limit_per_minute = 2
    for name in ("a", "b"):
        assert (await _create(client, auth, name)).status_code == 201
    for _ in range(5):
        clock.advance(10)
        assert _secondary(await _create(client, auth, "late"))
    assert (await client.get("/repos/acme/a", headers=auth)).status_code == 200  # reads pass
    clock.advance(10)  # 60 s after the two writes: rejections kept no slot
    assert (await _create(client, auth, "c")).status_code == 201
    assert (await _create(client, auth, "d")).status_code == 201
    stats = sandbox.stats
    assert stats.writes_accepted == 4
    assert stats.secondary_rejections["per_minute"] == 5
    assert stats.write_times == [clock() - 60, clock() - 60, clock(), clock()]


async def test_githubs_own_numbers(
    app_key: rsa.RSAPrivateKey, clock: FakeClock, tokens_for: TokensFor
) -> None:
    sb = GitHubSandbox(APP_ID, app_key.public_key(), clock=clock, faults=Faults.github_limits())
    sb.add_installation(ORG)
    async with tokens_for(sb) as (client, auth):
        statuses = []
        for _ in range(7):
            for _ in range(81):  # a write counts at arrival, even one that finds nothing
                statuses.append((await client.delete("/repos/acme/none", headers=auth)).status_code)
            clock.advance(60)
    assert statuses.count(404) == 500  # 80 in each of six minutes, 20 in the seventh
    assert statuses.count(403) == 7 * 81 - 500
    stats = sb.stats
    assert stats.max_writes_in(60) == 80
    assert stats.max_writes_in(3600) == 500
    assert stats.secondary_rejections["per_minute"] == 6
    assert stats.secondary_rejections["per_hour"] == 81 - 20


def test_max_in_window() -> None:
    assert max_in_window([], 60) == 0
    assert max_in_window([0, 59.9, 60, 61, 200], 60) == 3
    assert max_in_window([0, 0, 0], 1) == 3


class _Gate:
    """A ``sleep`` that parks each answer until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.arrivals: asyncio.Queue[float] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.arrivals.put_nowait(seconds)
        await self.opened.wait()


async def test_concurrency_cap(
    app_key: rsa.RSAPrivateKey, clock: FakeClock, tokens_for: TokensFor
) -> None:
    gate = _Gate()
    sb = GitHubSandbox(APP_ID, app_key.public_key(), clock=clock, sleep=gate)
    sb.add_installation(ORG)
    async with tokens_for(sb) as (client, auth):
        sb.faults.max_concurrent_requests = 2
        sb.faults.latency_s = 1.0
        calls = [
            asyncio.create_task(client.get(f"/repos/acme/r{n}", headers=auth)) for n in range(3)
        ]
        for _ in calls:
            await gate.arrivals.get()  # all three answered, two of them still in flight
        gate.opened.set()
        statuses = sorted(r.status_code for r in await asyncio.gather(*calls))
        assert statuses == [403, 404, 404]
        assert sb.stats.max_concurrency == 2
        assert sb.stats.secondary_rejections["concurrency"] == 1
        again = await asyncio.gather(*(client.get("/repos/acme/x", headers=auth) for _ in range(2)))
        assert [r.status_code for r in again] == [404, 404]  # the slots were given back


async def test_primary_exhaustion_counts_and_is_no_write(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.rate_limit = 1
    assert (await _create(client, auth, "a")).status_code == 201
    r = await _create(client, auth, "b")
    assert r.status_code == 403
    assert r.json()["message"].startswith("API rate limit exceeded for installation ID ")
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert (sandbox.stats.primary_rejections, sandbox.stats.writes_accepted) == (1, 1)


async def test_stats_and_faults_over_http(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    assert (await _create(client, auth, "a")).status_code == 201
    before = len(sandbox.requests)
    r = await client.get("/_sandbox/stats")
    assert r.status_code == 200
    assert r.json()["writes_accepted"] == 1
    assert r.json()["max_writes_per_minute"] == 1
    assert r.json()["secondary_rejections"]["concurrency"] == 0
    r = await client.patch("/_sandbox/faults", json={"secondary_limit_per_minute": 1})
    assert r.json()["secondary_limit_per_minute"] == 1
    assert sandbox.faults.secondary_limit_per_minute == 1
    assert (await client.patch("/_sandbox/faults", json={"nope": 1})).status_code == 400
    assert (await client.patch("/_sandbox/faults", json={"latency_s": None})).status_code == 400
    assert (await client.post("/_sandbox/stats/reset")).status_code == 204
    assert sandbox.stats.writes_accepted == 0
    assert (await client.get("/_sandbox/nothing")).status_code == 404
    assert len(sandbox.requests) == before  # control calls are not GitHub requests

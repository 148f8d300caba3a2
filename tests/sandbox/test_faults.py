"""Fault injection: one-shot failures, random faults, post-create 404s, dropped connections."""

from __future__ import annotations

import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import ConnectionDropped, GitHubSandbox
from sandbox.server import serve_in_thread
from tests.sandbox.conftest import ORG, UA, FakeClock, make_jwt


async def test_fail_next_fails_without_changing_state(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.fail_next("POST", r"/orgs/acme/repos", status=503, times=2)
    for _ in range(2):
        r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "x"})
        assert r.status_code == 503
        assert r.json()["message"] == "Service Unavailable"
    assert sandbox.repository(ORG, "x") is None
    r = await client.post("/orgs/acme/repos", headers=auth, json={"name": "x"})
    assert r.status_code == 201
    assert sandbox.count("POST", r"/orgs/acme/repos") == 3
    assert [rec.status for rec in sandbox.requests if rec.method == "POST"][-3:] == [503, 503, 201]


async def test_fail_next_with_custom_answer(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.fail_next(
        "GET", r"/repos/.*", status=429, headers={"retry-after": "7"}, body={"message": "slow down"}
    )
    r = await client.get("/repos/acme/x", headers=auth)
    assert (r.status_code, r.headers["retry-after"], r.json()) == (
        429,
        "7",
        {"message": "slow down"},
    )


async def test_fail_next_drop_through_asgi_transport(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.fail_next("GET", r"/rate_limit", drop=True)
    with pytest.raises(ConnectionDropped):
        await client.get("/rate_limit", headers=auth)
    assert sandbox.requests[-1].status == 0


async def test_random_faults_are_seeded(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.faults.server_error_rate = 0.5
    statuses = [(await client.get("/rate_limit", headers=auth)).status_code for _ in range(40)]
    assert {s for s in statuses if s != 200} <= {500, 502, 503}
    assert 5 < statuses.count(200) < 35
    sandbox.faults.server_error_rate = 0.0
    sandbox.faults.rate_limit_429_rate = 1.0
    sandbox.faults.retry_after_s = 3
    r = await client.get("/rate_limit", headers=auth)
    assert (r.status_code, r.headers["retry-after"]) == (429, "3")


async def test_same_seed_same_faults(app_key: rsa.RSAPrivateKey, clock: FakeClock) -> None:
    runs = []
    for _ in range(2):
        sb = GitHubSandbox(1, app_key.public_key(), clock=clock, seed=3)
        sb.faults.server_error_rate = 0.5
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sb.app), base_url="http://t", headers=UA
        ) as c:
            runs.append([(await c.get("/app")).status_code for _ in range(20)])
    assert runs[0] == runs[1]


async def test_post_create_404_window(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str], clock: FakeClock
) -> None:
    sandbox.faults.post_create_404_s = 5
    sandbox.add_repository(ORG, "old")
    assert (
        await client.post("/orgs/acme/repos", headers=auth, json={"name": "new"})
    ).status_code == 201
    for path in (
        "/repos/acme/new",
        "/repos/acme/new/contents/a",
        "/repos/acme/new/actions/secrets",
        "/repos/acme/new/actions/secrets/public-key",
    ):
        assert (await client.get(path, headers=auth)).status_code == 404
    assert (await client.get("/repos/acme/old", headers=auth)).status_code == 200
    clock.advance(5)
    assert (await client.get("/repos/acme/new", headers=auth)).status_code == 200


async def test_latency_is_added(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    sandbox.faults.latency_s = 0.05
    started = time.perf_counter()
    await client.get("/rate_limit", headers=auth)
    assert time.perf_counter() - started >= 0.05


def test_dropped_connection_is_a_transport_error_over_http(
    sandbox: GitHubSandbox, app_key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    headers = {**UA, "Authorization": f"Bearer {make_jwt(app_key, clock())}"}
    with serve_in_thread(sandbox) as base, httpx.Client(base_url=base, headers=headers) as c:
        assert c.get("/app").status_code == 200
        sandbox.faults.drop_connection_rate = 1.0
        with pytest.raises(httpx.TransportError):
            c.get("/app")
        sandbox.faults.drop_connection_rate = 0.0
        sandbox.fail_next("GET", "/app", drop=True)
        with pytest.raises(httpx.TransportError):
            c.get("/app")
        assert c.get("/app").status_code == 200

"""Fixtures for the GitHub sandbox tests: one App key per session, a fake clock, clients."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import GitHubSandbox, response_errors

APP_ID = 4242
ORG = "acme"
UA = {"User-Agent": "provisioner-tests", "X-GitHub-Api-Version": "2022-11-28"}


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(app_key: rsa.RSAPrivateKey, clock: FakeClock) -> GitHubSandbox:
    sb = GitHubSandbox(APP_ID, app_key.public_key(), clock=clock, seed=7)
    sb.add_installation(ORG)
    return sb


def make_jwt(
    key: rsa.RSAPrivateKey,
    now: float,
    *,
    iss: Any = APP_ID,
    iat: float | None = None,
    exp: float | None = None,
    **extra: Any,
) -> str:
    """An App JWT as a client would make it (iat 60 s back, exp 9 minutes ahead)."""
    claims: dict[str, Any] = {
        "iat": int(now - 60 if iat is None else iat),
        "exp": int(now + 540 if exp is None else exp),
        "iss": iss,
        **extra,
    }
    # PyJWT refuses a non-string ``iss``; sign the raw claims to allow GitHub's integer form
    return jwt.api_jws.encode(json.dumps(claims).encode(), key, algorithm="RS256")


async def _check_success_shape(response: httpx.Response) -> None:
    """Every 2xx answer must match GitHub's description."""
    if response.status_code >= 300 or response.request.url.path.startswith("/_sandbox/"):
        return
    await response.aread()
    errors = response_errors(
        response.request.method,
        response.request.url.path,
        response.status_code,
        dict(response.headers),
        response.content,
    )
    assert errors == [], f"{response.request.method} {response.request.url}: {errors}"


@pytest.fixture
async def client(sandbox: GitHubSandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://sandbox.test",
        headers=UA,
        event_hooks={"response": [_check_success_shape]},
    ) as c:
        yield c


@pytest.fixture
def app_headers(app_key: rsa.RSAPrivateKey, clock: FakeClock) -> Callable[[], dict[str, str]]:
    """Headers with a fresh App JWT (made at the fake clock's time)."""
    return lambda: {"Authorization": f"Bearer {make_jwt(app_key, clock())}"}


class Tokens:
    """Mints installation tokens through the sandbox's own endpoint."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        sandbox: GitHubSandbox,
        app_headers: Callable[[], dict[str, str]],
    ) -> None:
        self.client = client
        self.sandbox = sandbox
        self.app_headers = app_headers

    async def installation_id(self, org: str = ORG) -> int:
        r = await self.client.get(f"/orgs/{org}/installation", headers=self.app_headers())
        assert r.status_code == 200, r.text
        return int(r.json()["id"])

    async def headers(self, org: str = ORG, **narrow: Any) -> dict[str, str]:
        inst = await self.installation_id(org)
        r = await self.client.post(
            f"/app/installations/{inst}/access_tokens",
            headers=self.app_headers(),
            json=narrow or None,
        )
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def tokens(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, app_headers: Callable[[], dict[str, str]]
) -> Tokens:
    return Tokens(client, sandbox, app_headers)


@pytest.fixture
async def auth(tokens: Tokens) -> dict[str, str]:
    """Headers with an installation token for ``acme`` (default permissions)."""
    return await tokens.headers()


TokensFor = Callable[
    [GitHubSandbox], AbstractAsyncContextManager[tuple[httpx.AsyncClient, dict[str, str]]]
]


@pytest.fixture
def tokens_for(app_key: rsa.RSAPrivateKey, clock: FakeClock) -> TokensFor:
    """For a sandbox a test built itself: a client and an installation token for ``acme``."""

    @contextlib.asynccontextmanager
    async def open_client(
        sb: GitHubSandbox,
    ) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sb.app),
            base_url="http://sandbox.test",
            headers=UA,
            event_hooks={"response": [_check_success_shape]},
        ) as c:
            jwt_headers = {"Authorization": f"Bearer {make_jwt(app_key, clock())}"}
            yield c, await Tokens(c, sb, lambda: jwt_headers).headers()

    return open_client

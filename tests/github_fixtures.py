"""A GitHub sandbox served over real loopback HTTP, and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pydantic import SecretStr

from cli.harness import APP_ID, ORG, Clock
from sandbox import GitHubSandbox
from sandbox.server import serve_in_thread
from shared.github.client import GitHubClient
from shared.github.config import GitHubConfig
from shared.settings import GitHubSettings

__all__ = ["APP_ID", "ORG", "Clock", "github_config"]


@pytest.fixture
def clock() -> Clock:
    """Shared by the sandbox and the client, so token lifetimes agree."""
    return Clock()


@pytest.fixture
def github_sandbox(app_key: RSAPrivateKey, clock: Clock) -> Iterator[GitHubSandbox]:
    """A fresh sandbox with the App installed on one organization.

    At teardown, every request the client sent must have matched GitHub's
    OpenAPI description: this is the conformance check of the whole suite.
    """
    sandbox = GitHubSandbox(APP_ID, app_key.public_key(), clock=clock)
    sandbox.add_installation(ORG)
    yield sandbox
    assert sandbox.spec_violations == [], "requests that GitHub's OpenAPI description rejects"


@pytest.fixture
def sandbox_url(github_sandbox: GitHubSandbox) -> Iterator[str]:
    """The sandbox's base URL on 127.0.0.1."""
    with serve_in_thread(github_sandbox) as url:
        yield url


def hidden(values: Mapping[str, str]) -> dict[str, SecretStr]:
    """Secret values as provisioning takes them."""
    return {name: SecretStr(value) for name, value in values.items()}


async def no_sleep(_seconds: float) -> None:
    """A ``sleep`` that returns at once: retries in tests need not wait for real."""


def github_config(url: str, app_key_pem: bytes, **overrides: object) -> GitHubConfig:
    """The client configuration of the test App against ``url``, built as the service does."""
    values: dict[str, object] = {
        "api_url": url,
        "app_id": str(APP_ID),
        "app_private_key": SecretStr(app_key_pem.decode()),
        "timeout_s": 5.0,
    }
    values.update(overrides)
    return GitHubSettings.model_validate(values).app


@pytest.fixture
async def github(sandbox_url: str, app_key_pem: bytes, clock: Clock) -> AsyncIterator[GitHubClient]:
    """A client for the sandbox, with no spacing between writes."""
    client = GitHubClient(github_config(sandbox_url, app_key_pem), clock=clock, sleep=no_sleep)
    yield client
    await client.aclose()

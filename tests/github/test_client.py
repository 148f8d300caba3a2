"""The GitHub client over real loopback HTTP against the sandbox."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from sandbox import GitHubSandbox
from shared.github import errors as e
from shared.github.client import GitHubClient
from tests.github_fixtures import ORG, Clock, github_config, no_sleep

pytestmark = pytest.mark.integration


async def test_installation_is_found_once_and_cached(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.add_installation("someone", account_type="User")
    first = await github.installation()
    second = await github.installation()
    assert first is second
    assert first.account_login == ORG
    assert github_sandbox.count("GET", r"^/app/installations$") == 1


async def test_installations_are_paged(
    sandbox_url: str, app_key_pem: bytes, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    for n in range(130):
        github_sandbox.add_installation(f"user{n}", account_type="User")
    github_sandbox.add_installation("zeta-org")
    async with GitHubClient(github_config(sandbox_url, app_key_pem), clock=clock) as client:
        with pytest.raises(e.GitHubConfigError) as caught:
            await client.installation()
    assert "acme, zeta-org" in str(caught.value)
    assert "GITHUB_ORG" in str(caught.value)
    assert github_sandbox.count("GET", r"^/app/installations$") == 2


async def test_github_org_picks_the_installation(
    sandbox_url: str, app_key_pem: bytes, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    other = github_sandbox.add_installation("zeta-org")
    settings = github_config(sandbox_url, app_key_pem, org="zeta-org")
    async with GitHubClient(settings, clock=clock) as client:
        assert (await client.installation()).id == other
    assert github_sandbox.count("GET", r"^/app/installations$") == 0


async def test_no_organization_installation_is_a_config_error(
    sandbox_url: str, app_key_pem: bytes, clock: Clock
) -> None:
    for settings in (
        github_config(sandbox_url, app_key_pem, org="nowhere"),
        github_config(sandbox_url, app_key_pem, app_id="999"),
    ):
        async with GitHubClient(settings, clock=clock) as client:
            with pytest.raises((e.GitHubConfigError, e.Unauthorized)) as caught:
                await client.installation()
        assert not caught.value.transient


async def test_wrong_app_key_is_unauthorized(sandbox_url: str, clock: Clock) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    async with GitHubClient(github_config(sandbox_url, pem), clock=clock) as client:
        with pytest.raises(e.Unauthorized):
            await client.check_credentials()


async def test_token_is_minted_once_and_refreshed_before_expiry(
    github: GitHubClient, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    await github.create_org_repository(ORG, "one")
    await github.get_repository(ORG, "one")
    assert github_sandbox.tokens_issued == 1
    clock.advance(54 * 60)
    await github.get_repository(ORG, "one")
    assert github_sandbox.tokens_issued == 1
    clock.advance(2 * 60)  # 56 minutes: inside the 5-minute margin
    await github.get_repository(ORG, "one")
    assert github_sandbox.tokens_issued == 2


async def test_rejected_token_is_reminted_once(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    await github.create_org_repository(ORG, "one")
    github_sandbox.fail_next("GET", r"^/repos/acme/one$", status=401,
                             body={"message": "Bad credentials"})  # fmt: skip
    repo = await github.get_repository(ORG, "one")
    assert repo.name == "one"
    assert github_sandbox.tokens_issued == 2


async def test_concurrent_first_requests_share_one_token(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    import asyncio

    await asyncio.gather(*(github.create_org_repository(ORG, f"r{i}") for i in range(10)))
    assert github_sandbox.tokens_issued == 1
    assert github_sandbox.count("GET", r"^/app/installations$") == 1


async def test_create_takes_the_name_github_gives(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    repo = await github.create_org_repository(ORG, "Repo Test", description="d")
    assert (repo.name, repo.full_name, repo.owner) == ("Repo-Test", "acme/Repo-Test", ORG)
    assert repo.private
    assert repo.clone_url.endswith("/acme/Repo-Test.git")
    stored = github_sandbox.repository(ORG, "repo-test")
    assert stored is not None
    assert stored.description == "d"
    with pytest.raises(e.RepositoryNameTaken):
        await github.create_org_repository(ORG, "REPO-test")


async def test_missing_repository_is_not_found(github: GitHubClient) -> None:
    with pytest.raises(e.NotFound) as caught:
        await github.get_repository(ORG, "nope")
    assert not caught.value.transient


async def test_contents_create_update_and_sha_rules(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    await github.create_org_repository(ORG, "files")
    assert await github.get_file(ORG, "files", "dir/a.txt") is None
    sha1 = await github.put_file(ORG, "files", "dir/a.txt", content=b"one", message="add")
    current = await github.get_file(ORG, "files", "dir/a.txt")
    assert current is not None
    assert (current.content, current.sha) == (b"one", sha1)
    with pytest.raises(e.ValidationFailed):
        await github.put_file(ORG, "files", "dir/a.txt", content=b"two", message="no sha")
    sha2 = await github.put_file(ORG, "files", "dir/a.txt", content=b"two", message="up", sha=sha1)
    with pytest.raises(e.Conflict):
        await github.put_file(ORG, "files", "dir/a.txt", content=b"3", message="stale", sha=sha1)
    stored = github_sandbox.repository(ORG, "files")
    assert stored is not None
    assert stored.files["dir/a.txt"] == b"two"
    assert len(stored.commits) == 2
    assert sha2 != sha1


async def test_secrets_are_sealed_and_key_is_cached(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    await github.create_org_repository(ORG, "sec")
    await github.set_actions_secret(ORG, "sec", "API_KEY", SecretStr("v1 ✓"))
    await github.set_actions_secret(ORG, "sec", "OTHER", SecretStr("v2"))
    await github.set_actions_secret(ORG, "sec", "API_KEY", SecretStr("v3"))
    stored = github_sandbox.repository(ORG, "sec")
    assert stored is not None
    assert stored.secrets == {"API_KEY": "v3", "OTHER": "v2"}
    assert github_sandbox.count("GET", r"/actions/secrets/public-key$") == 1


async def test_narrowed_token_reaches_only_its_repository(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    await github.create_org_repository(ORG, "mine")
    await github.create_org_repository(ORG, "theirs")
    token = await github.mint_token(repositories=["mine"], permissions={"contents": "write"})
    assert token.repositories == ("mine",)
    assert token.permissions == {"contents": "write"}
    assert len(token.token) > 40 or token.token.startswith("ghs_")
    ok = await github.request("GET", "/repos/acme/mine", token=token.token)
    assert ok.json()["name"] == "mine"
    with pytest.raises(e.NotFound):
        await github.request("GET", "/repos/acme/theirs", token=token.token)
    with pytest.raises(e.Forbidden):
        await github.request("POST", f"/orgs/{ORG}/repos", token=token.token, json={"name": "x"})


@pytest.mark.parametrize(
    ("fail", "error_type", "retry_after"),
    [
        ({"status": 502, "times": 3}, e.ServerError, None),
        ({"status": 503, "body": {"message": "Service Unavailable"}, "times": 3}, e.ServerError,
         None),
        ({"status": 429, "headers": {"retry-after": "17"}}, e.RateLimited, 17.0),
        ({"status": 403, "headers": {"retry-after": "3"},
          "body": {"message": "You have exceeded a secondary rate limit."}}, e.RateLimited, 3.0),
        ({"drop": True, "times": 3}, e.GitHubTransportError, None),
        ({"status": 404}, e.NotFound, None),
        ({"status": 403, "body": {"message": "Resource not accessible by integration"}},
         e.Forbidden, None),
    ],
)  # fmt: skip
async def test_injected_faults_become_typed_errors(
    github: GitHubClient,
    github_sandbox: GitHubSandbox,
    fail: dict[str, object],
    error_type: type[e.GitHubError],
    retry_after: float | None,
) -> None:
    await github.create_org_repository(ORG, "f")
    github_sandbox.fail_next("GET", r"^/repos/acme/f$", **fail)  # type: ignore[arg-type]
    with pytest.raises(error_type) as caught:
        await github.get_repository(ORG, "f")
    assert type(caught.value) is error_type
    assert caught.value.retry_after == retry_after
    assert (await github.get_repository(ORG, "f")).name == "f"  # the next one goes through


@pytest.mark.parametrize("fail", [{"status": 502}, {"status": 504}, {"drop": True}])
async def test_a_blip_is_retried_inside_the_request(
    sandbox_url: str,
    app_key_pem: bytes,
    github_sandbox: GitHubSandbox,
    clock: Clock,
    fail: dict[str, object],
) -> None:
    waits: list[float] = []
    gate = _CountingGate()

    async def record(seconds: float) -> None:
        waits.append(seconds)

    config = github_config(sandbox_url, app_key_pem)
    async with GitHubClient(config, clock=clock, sleep=record, gate=gate) as client:
        await client.create_org_repository(ORG, "f")
        github_sandbox.fail_next("GET", r"^/repos/acme/f$", times=2, **fail)  # type: ignore[arg-type]
        before = gate.acquired
        assert (await client.get_repository(ORG, "f")).name == "f"
    assert gate.acquired - before == 3  # every try draws from the budget
    assert gate.released == gate.acquired
    assert len(waits) == 2 and 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0


async def test_client_errors_are_never_retried(
    sandbox_url: str, app_key_pem: bytes, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    gate = _CountingGate()
    config = github_config(sandbox_url, app_key_pem)
    async with GitHubClient(config, clock=clock, sleep=no_sleep, gate=gate) as client:
        await client.create_org_repository(ORG, "f")
        github_sandbox.fail_next("GET", r"^/repos/acme/f$", status=404)
        before = gate.acquired
        with pytest.raises(e.NotFound):
            await client.get_repository(ORG, "f")
    assert gate.acquired - before == 1


class _CountingGate:
    def __init__(self) -> None:
        self.acquired = 0
        self.released = 0

    async def acquire(self, method: str, *, max_wait_s: float) -> None:
        self.acquired += 1

    async def release(
        self, permit: object, headers: object, status: int | None, *, rate_limited: object = None
    ) -> None:
        self.released += 1


async def test_rate_faults_and_latency(github: GitHubClient, github_sandbox: GitHubSandbox) -> None:
    await github.create_org_repository(ORG, "f")
    github_sandbox.faults.server_error_rate = 1.0
    with pytest.raises(e.ServerError):
        await github.get_repository(ORG, "f")
    github_sandbox.faults.server_error_rate = 0.0
    github_sandbox.faults.rate_limit_429_rate = 1.0
    github_sandbox.faults.retry_after_s = 9
    with pytest.raises(e.RateLimited) as limited:
        await github.get_repository(ORG, "f")
    assert limited.value.retry_after == 9
    github_sandbox.faults.rate_limit_429_rate = 0.0
    github_sandbox.faults.drop_connection_rate = 1.0
    with pytest.raises(e.GitHubTransportError):
        await github.get_repository(ORG, "f")
    github_sandbox.faults.drop_connection_rate = 0.0
    assert (await github.get_repository(ORG, "f")).name == "f"


async def test_timeout_is_a_transport_error(
    sandbox_url: str, app_key_pem: bytes, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    settings = github_config(sandbox_url, app_key_pem, timeout_s=0.2)
    async with GitHubClient(settings, clock=clock, sleep=no_sleep) as client:
        await client.installation()
        github_sandbox.faults.latency_s = 1.0
        with pytest.raises(e.GitHubTransportError) as caught:
            await client.get_repository(ORG, "x")
        assert caught.value.transient


async def test_secondary_limit_is_rate_limited(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.faults.secondary_limit_per_minute = 2
    await github.create_org_repository(ORG, "a")
    await github.create_org_repository(ORG, "b")
    with pytest.raises(e.RateLimited) as caught:
        await github.create_org_repository(ORG, "c")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    assert github_sandbox.repository(ORG, "c") is None


async def test_rejected_jwt_is_signed_again_once(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    github_sandbox.fail_next("GET", r"^/app$", status=401, body={"message": "Bad JWT"})
    await github.check_credentials()
    assert github_sandbox.count("GET", r"^/app$") == 2


async def test_reinstalled_app_is_found_again_when_the_mint_answers_404(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    first = (await github.installation()).id
    github_sandbox.remove_installation(first)
    again = github_sandbox.add_installation(ORG)
    repo = await github.create_org_repository(ORG, "after-reinstall")
    assert repo.name == "after-reinstall"
    assert (await github.installation()).id == again != first


async def test_fresh_token_rejected_finds_the_installation_again(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    await github.create_org_repository(ORG, "one")
    first = (await github.installation()).id
    github_sandbox.remove_installation(first)  # its tokens answer 401 from now on
    again = github_sandbox.add_installation(ORG)
    github_sandbox.fail_next("GET", r"^/repos/acme/one$", status=401, times=2,
                             body={"message": "Bad credentials"})  # fmt: skip
    repo = await github.get_repository(ORG, "one")
    assert repo.name == "one"
    assert (await github.installation()).id == again

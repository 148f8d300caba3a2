"""Provisioning steps against the sandbox: minimal requests, convergence, adoption."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from sandbox import GitHubSandbox
from shared.github import errors as e
from shared.github.client import GitHubClient
from shared.github.models import ActionsPublicKey
from shared.provisioning.errors import NameTakenByOther, SecretsIncomplete, SecretsRejected
from shared.provisioning.project_file import PROJECT_FILE_PATH
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import AppliedSetting, EnsuredRepository, Progress, ProjectSpec
from tests.github_fixtures import ORG, Clock, hidden

pytestmark = pytest.mark.integration

SECRETS = {"API_KEY": "k-123", "DB_PASSWORD": "p@ss ✓"}


def _spec(project_id: UUID | None = None, **overrides: object) -> ProjectSpec:
    values: dict[str, object] = {
        "id": project_id or uuid4(),
        "display_name": "Тестовый бот",
        "repo_name": "testovyi-bot",
        "description": "A bot",
        "owner": "alice",
        "config": {"language": "python"},
        "secret_names": sorted(SECRETS),
    }
    values.update(overrides)
    return ProjectSpec(**values)  # type: ignore[arg-type]


class NoSleep:
    """Records the waits instead of waiting (the sandbox's window is on the shared clock)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def provisioner(github: GitHubClient, clock: Clock) -> Provisioner:
    return Provisioner(github, sleep=NoSleep(clock))


async def _warm_up(github: GitHubClient) -> None:
    await github.installation_token()


def _repo(sandbox: GitHubSandbox, name: str = "testovyi-bot") -> object:
    repo = sandbox.repository(ORG, name)
    assert repo is not None
    return repo


async def test_happy_path_costs_create_file_key_and_one_put_per_secret(
    github: GitHubClient, github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    await _warm_up(github)
    github_sandbox.reset_requests()
    spec = _spec()
    result = await provisioner.provision(spec, hidden(SECRETS))
    assert result.created and result.file_committed
    assert {n: o.state for n, o in result.secrets.items()} == {
        "API_KEY": "set",
        "DB_PASSWORD": "set",
    }
    assert [(r.method, r.path) for r in github_sandbox.requests] == [
        ("POST", "/orgs/acme/repos"),
        ("PUT", "/repos/acme/testovyi-bot/contents/.project.yaml"),
        ("GET", "/repos/acme/testovyi-bot/actions/secrets/public-key"),
        ("PUT", "/repos/acme/testovyi-bot/actions/secrets/API_KEY"),
        ("PUT", "/repos/acme/testovyi-bot/actions/secrets/DB_PASSWORD"),
    ]
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert repo.private
    assert repo.files[PROJECT_FILE_PATH] == spec.project_file()
    assert repo.secrets == SECRETS
    assert b"k-123" not in repo.files[PROJECT_FILE_PATH]


async def test_without_secrets_it_is_two_requests(
    github: GitHubClient, github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    await _warm_up(github)
    github_sandbox.reset_requests()
    await provisioner.provision(_spec(secret_names=()), {})
    assert github_sandbox.count() == 2


async def test_rerun_after_success_changes_nothing(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    spec = _spec()
    await provisioner.provision(spec, hidden(SECRETS))
    again = await provisioner.provision(spec, hidden(SECRETS))
    assert not again.created and not again.file_committed
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert len(github_sandbox.repositories) == 1
    assert [c.path for c in repo.commits] == [PROJECT_FILE_PATH]
    assert repo.secrets == SECRETS


async def test_changed_project_file_is_one_update_commit(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    spec = _spec()
    await provisioner.provision(spec, {})
    changed = _spec(spec.id, description="A better bot", secret_names=())
    result = await provisioner.provision(changed, {})
    assert result.file_committed
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert len(repo.commits) == 2
    assert repo.files[PROJECT_FILE_PATH] == changed.project_file()


STEPS = [
    ("POST", r"^/orgs/acme/repos$"),
    ("PUT", r"/contents/\.project\.yaml$"),
    ("GET", r"/actions/secrets/public-key$"),
    ("PUT", r"/actions/secrets/API_KEY$"),
    ("PUT", r"/actions/secrets/DB_PASSWORD$"),
]


@pytest.mark.parametrize(("method", "path"), STEPS)
@pytest.mark.parametrize(
    "fault", [{"status": 502, "times": 3}, {"drop": True, "times": 3}, {"status": 429}]
)
async def test_rerun_after_failing_at_each_step_converges(
    github_sandbox: GitHubSandbox,
    provisioner: Provisioner,
    method: str,
    path: str,
    fault: dict[str, object],
) -> None:
    spec = _spec()
    kept = MemoryProgress()
    github_sandbox.fail_next(method, path, **fault)  # type: ignore[arg-type]
    with pytest.raises((e.GitHubError, SecretsIncomplete)) as caught:
        await provisioner.provision(spec, hidden(SECRETS), sink=kept)
    assert isinstance(caught.value, e.GitHubError | SecretsIncomplete)
    assert caught.value.transient
    if isinstance(caught.value, SecretsIncomplete):
        assert {o.state for o in caught.value.outcomes.values()} >= {"pending"}
    left = {name: value for name, value in SECRETS.items() if name not in kept.secrets}
    await provisioner.provision(spec, hidden(left), progress=kept.progress(), sink=kept)
    assert len(github_sandbox.repositories) == 1
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert [c.path for c in repo.commits] == [PROJECT_FILE_PATH]
    assert repo.files[PROJECT_FILE_PATH] == spec.project_file()
    assert repo.secrets == SECRETS


async def test_lost_create_answer_is_adopted(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    asked = Progress(sent_creates=(datetime.now(UTC),))
    github_sandbox.add_repository(ORG, "testovyi-bot")  # created, but the 201 never arrived
    result = await provisioner.provision(_spec(), hidden(SECRETS), progress=asked)
    assert not result.created and result.file_committed
    assert len(github_sandbox.repositories) == 1


async def test_a_create_retried_inside_the_request_adopts_what_its_first_try_made(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    github_sandbox.fail_next("POST", r"^/orgs/acme/repos$", status=502)
    github_sandbox.add_repository(ORG, "testovyi-bot")  # what the 502'd try made
    result = await provisioner.provision(_spec(), {})
    assert not result.created and result.file_committed


async def test_a_foreign_repository_created_later_with_our_name_is_not_adopted(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    long_ago = Progress(sent_creates=(datetime.now(UTC) - timedelta(minutes=10),))
    github_sandbox.add_repository(ORG, "testovyi-bot")  # someone else's, made just now
    with pytest.raises(NameTakenByOther) as caught:
        await provisioner.provision(_spec(), {}, progress=long_ago)
    assert "acme/testovyi-bot" in caught.value.message


async def test_a_repository_with_content_is_never_adopted_without_our_file(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    asked = Progress(sent_creates=(datetime.now(UTC),))
    github_sandbox.add_repository(ORG, "testovyi-bot", files={"README.md": "x" * 4096})
    with pytest.raises(NameTakenByOther):
        await provisioner.provision(_spec(), {}, progress=asked)


async def test_repository_of_this_project_is_adopted(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    spec = _spec()
    github_sandbox.add_repository(
        ORG, "testovyi-bot", files={PROJECT_FILE_PATH: spec.project_file().decode()}
    )
    result = await provisioner.provision(spec, {})
    assert not result.created and not result.file_committed


async def test_empty_repository_from_before_our_attempt_is_not_adopted(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    github_sandbox.add_repository(ORG, "testovyi-bot")
    later = Progress(sent_creates=(datetime.now(UTC) + timedelta(minutes=10),))
    with pytest.raises(NameTakenByOther):
        await provisioner.provision(_spec(), {}, progress=later)
    with pytest.raises(NameTakenByOther):
        await provisioner.provision(_spec(), {})  # no unanswered create: never ours


async def test_foreign_repository_is_name_taken(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    other = _spec()
    github_sandbox.add_repository(
        ORG, "Testovyi-Bot", files={PROJECT_FILE_PATH: other.project_file().decode()}
    )
    with pytest.raises(NameTakenByOther) as caught:
        await provisioner.provision(_spec(), hidden(SECRETS))
    assert caught.value.claimed_by == str(other.id)
    assert not caught.value.transient
    assert caught.value.code == "repo_name_taken"
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert repo.secrets == {}


async def test_invalid_secrets_send_no_request(
    github: GitHubClient, github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    await _warm_up(github)
    github_sandbox.reset_requests()
    with pytest.raises(SecretsRejected) as caught:
        await provisioner.provision(_spec(), hidden({"GITHUB_TOKEN": "x", "OK": "y"}))
    assert "GITHUB_TOKEN" in str(caught.value)
    assert github_sandbox.count() == 0


async def test_a_refused_secret_is_reported_not_swallowed(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    github_sandbox.fail_next(
        "PUT",
        r"/actions/secrets/API_KEY$",
        status=422,
        body={"message": "Validation Failed"},
        times=2,
    )
    with pytest.raises(SecretsIncomplete) as caught:
        await provisioner.provision(_spec(), hidden(SECRETS))
    outcomes = caught.value.outcomes
    assert outcomes["API_KEY"].state == "failed"
    assert outcomes["API_KEY"].code == "github_validation_failed"
    assert outcomes["DB_PASSWORD"].state == "set"
    assert not caught.value.transient


async def test_post_creation_404s_are_waited_out(
    github: GitHubClient, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    sleeper = NoSleep(clock)
    provisioner = Provisioner(github, sleep=sleeper, visibility_delays_s=(1, 2, 4, 8))
    await _warm_up(github)
    github_sandbox.faults.post_create_404_s = 2.5
    github_sandbox.reset_requests()
    result = await provisioner.provision(_spec(), hidden(SECRETS))
    assert result.created
    assert sleeper.waits == [1, 2]
    repo = github_sandbox.repository(ORG, "testovyi-bot")
    assert repo is not None
    assert repo.secrets == SECRETS


async def test_a_repository_that_never_appears_is_transient(
    github: GitHubClient, github_sandbox: GitHubSandbox, clock: Clock
) -> None:
    provisioner = Provisioner(github, sleep=NoSleep(clock), visibility_delays_s=(1, 2))
    github_sandbox.faults.post_create_404_s = 3600
    with pytest.raises(e.RepositoryNotYetVisible) as caught:
        await provisioner.provision(_spec(), {})
    assert caught.value.transient


class MemoryProgress:
    """Keeps what the steps report, as the worker's database sink does."""

    def __init__(self) -> None:
        self.repo: EnsuredRepository | None = None
        self.creates: list[datetime] = []
        self.file: tuple[str, str] | None = None
        self.key: ActionsPublicKey | None = None
        self.secrets: set[str] = set()
        self.settings: dict[str, AppliedSetting] = {}
        self.refused: dict[str, str] = {}

    async def settings_reset(self) -> None:
        self.settings.clear()

    async def setting_applied(self, key: str, digest: str, github_id: int | None) -> None:
        self.settings[key] = AppliedSetting(digest, github_id)

    async def setting_failed(self, key: str, code: str, message: str) -> None:
        self.refused[key] = message

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        self.repo = repo

    async def create_sending(self, sent_at: datetime) -> None:
        self.creates.append(sent_at)

    async def project_file_committed(self, sha: str, digest: str) -> None:
        self.file = (sha, digest)

    async def actions_key_fetched(self, key: ActionsPublicKey) -> None:
        self.key = key

    async def secret_set(self, name: str) -> None:
        self.secrets.add(name)

    def progress(self) -> Progress:
        """What a retry resumes from."""
        return Progress(
            repository=self.repo,
            project_file_sha=self.file[0] if self.file else None,
            project_file_digest=self.file[1] if self.file else None,
            actions_key=self.key,
            sent_creates=tuple(self.creates),
            settings=dict(self.settings),
        )


class _CrashAfterCreate(MemoryProgress):
    """The process dies right after GitHub made the repository, before it is recorded."""

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        raise KeyboardInterrupt


async def test_a_repository_whose_creation_was_never_recorded_is_adopted(
    github_sandbox: GitHubSandbox, provisioner: Provisioner
) -> None:
    spec = _spec()
    crashed = _CrashAfterCreate()
    with pytest.raises(KeyboardInterrupt):
        await provisioner.provision(spec, {}, sink=crashed)
    assert crashed.creates and crashed.repo is None  # asked, made, never recorded
    result = await provisioner.provision(spec, {}, progress=crashed.progress())
    assert not result.created and result.file_committed
    assert len(github_sandbox.repositories) == 1

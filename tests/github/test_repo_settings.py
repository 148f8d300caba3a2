"""Repository settings against the sandbox: fewest requests, re-runs free, refusals named."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from sandbox import GitHubSandbox
from shared.github.client import GitHubClient
from shared.provisioning.errors import SettingsRejected
from shared.provisioning.project_file import PROJECT_FILE_PATH
from shared.provisioning.settings.entries import RULESET_NAME, desired_settings
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import ProjectSpec
from tests.github.test_provisioning import MemoryProgress, NoSleep
from tests.github_fixtures import ORG, Clock

pytestmark = pytest.mark.integration

FULL: dict[str, Any] = {
    "visibility": "private",
    "homepage": "https://example.com",
    "topics": ["python", "agents"],
    "features": {"issues": True, "wiki": False, "projects": False},
    "merge": {
        "merge_commit": False,
        "squash": True,
        "rebase": False,
        "auto_merge": True,
        "delete_branch_on_merge": True,
    },
    "teams": {"platform": "maintain", "reviewers": "push"},
    "collaborators": {"octocat": "push"},
    "variables": {"PYTHON_VERSION": "3.12"},
    "protection": {
        "required_approvals": 1,
        "code_owner_review": True,
        "dismiss_stale_reviews": True,
        "status_checks": ["ci"],
        "linear_history": True,
        "block_force_push": True,
    },
    "environments": {"production": {"wait_timer": 5}},
    "custom_properties": {"cost_center": "cc-42"},
}


def _spec(repository: dict[str, Any], name: str = "settings-bot") -> ProjectSpec:
    return ProjectSpec(
        id=uuid4(),
        display_name=name,
        repo_name=name,
        owner="alice",
        repository=repository,
        settings=desired_settings(repository),
    )


@pytest.fixture
def world(github_sandbox: GitHubSandbox) -> GitHubSandbox:
    github_sandbox.add_team(ORG, "platform")
    github_sandbox.add_team(ORG, "reviewers")
    github_sandbox.add_user("octocat")
    github_sandbox.define_property(ORG, "cost_center")
    return github_sandbox


@pytest.fixture
def provisioner(github: GitHubClient, clock: Clock) -> Provisioner:
    return Provisioner(github, sleep=NoSleep(clock))


def _sent(sandbox: GitHubSandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests if not r.path.startswith("/app")]


async def test_create_body_settings_cost_no_request_more_than_none(
    github: GitHubClient, world: GitHubSandbox, provisioner: Provisioner
) -> None:
    await github.installation_token()
    world.reset_requests()
    await provisioner.provision(_spec({}, "plain"), {})
    plain = len(_sent(world))
    world.reset_requests()
    asked = {k: FULL[k] for k in ("visibility", "homepage", "features", "merge")}
    asked["custom_properties"] = FULL["custom_properties"]
    sink = MemoryProgress()
    await provisioner.provision(_spec(asked, "body-only"), {}, sink=sink)
    assert len(_sent(world)) == plain == 2
    repo = world.repository(ORG, "body-only")
    assert repo is not None
    assert repo.custom_properties == {"cost_center": "cc-42"}
    assert set(sink.settings) == {
        "visibility",
        "homepage",
        "features",
        "merge",
        "custom_properties",
    }


async def test_full_example_costs_one_request_per_setting_and_rerun_none(
    github: GitHubClient, world: GitHubSandbox, provisioner: Provisioner
) -> None:
    await github.installation_token()
    world.reset_requests()
    spec = _spec(FULL)
    sink = MemoryProgress()
    await provisioner.provision(spec, {}, sink=sink)
    sent = _sent(world)
    base = "/repos/acme/settings-bot"
    assert sent == [
        ("POST", "/orgs/acme/repos"),
        ("PUT", f"{base}/contents/.project.yaml"),
        ("PUT", f"{base}/topics"),
        ("PUT", f"/orgs/acme/teams/platform{base}"),
        ("PUT", f"/orgs/acme/teams/reviewers{base}"),
        ("PUT", f"{base}/collaborators/octocat"),
        ("POST", f"{base}/actions/variables"),
        ("PUT", f"{base}/environments/production"),
        ("POST", f"{base}/rulesets"),
    ]
    assert set(sink.settings) == set(spec.settings)
    repo = world.repository(ORG, "settings-bot")
    assert repo is not None
    assert repo.topics == ["python", "agents"]
    (ruleset,) = repo.rulesets.values()
    assert ruleset.name == RULESET_NAME
    assert {r["type"] for r in ruleset.rules} == {
        "deletion",
        "pull_request",
        "required_status_checks",
        "required_linear_history",
        "non_fast_forward",
    }
    assert b"PYTHON_VERSION" in repo.files[PROJECT_FILE_PATH]
    world.reset_requests()
    await provisioner.provision(spec, {}, progress=sink.progress(), sink=MemoryProgress())
    assert _sent(world) == []


@pytest.mark.parametrize(
    ("asked", "key", "message"),
    [
        ({"teams": {"ghost": "push"}}, "teams.ghost", 'no team "ghost" in acme'),
        ({"collaborators": {"nobody-here": "push"}}, "collaborators.nobody-here", "no GitHub user"),
        ({"custom_properties": {"unknown_prop": "x"}}, "custom_properties", "GitHub refused it"),
        ({"visibility": "internal"}, "visibility", "enterprise"),
        ({"template": "acme/no-such-template"}, "template", "no template repository"),
    ],
)
async def test_a_refused_setting_is_named(
    github: GitHubClient,
    world: GitHubSandbox,
    provisioner: Provisioner,
    asked: dict[str, Any],
    key: str,
    message: str,
) -> None:
    sink = MemoryProgress()
    with pytest.raises(SettingsRejected) as caught:
        await provisioner.provision(_spec(asked), {}, sink=sink)
    assert caught.value.code == "setting_rejected"
    assert key in caught.value.problems
    assert message in caught.value.problems[key]
    assert sink.refused[key].startswith(f"{key}: ")


async def test_a_missing_permission_is_named_and_a_rerun_redoes_only_it(
    github: GitHubClient, world: GitHubSandbox, provisioner: Provisioner
) -> None:
    installation = (await github.installation()).id
    granted = dict(world.installation(installation).permissions)  # type: ignore[union-attr]
    world.set_installation_permissions(
        installation, {k: v for k, v in granted.items() if k != "actions_variables"}
    )
    spec = _spec({"topics": ["a"], "variables": {"X": "1"}})
    sink = MemoryProgress()
    with pytest.raises(SettingsRejected) as caught:
        await provisioner.provision(spec, {}, sink=sink)
    assert "actions_variables=write" in caught.value.problems["variables.X"]
    assert "topics" in sink.settings
    world.set_installation_permissions(installation, granted)
    world.reset_requests()
    await provisioner.provision(spec, {}, progress=sink.progress(), sink=sink)
    # A token keeps the permissions it was minted with: the 403 made the client mint anew.
    assert _sent(world) == [("POST", "/repos/acme/settings-bot/actions/variables")]
    assert sink.settings["variables.X"].digest == spec.settings["variables.X"].digest


async def test_template_with_delayed_content_gets_the_project_file_on_top(
    github: GitHubClient, world: GitHubSandbox, provisioner: Provisioner
) -> None:
    world.add_repository(ORG, "py-template", {"README.md": "# template\n"}, is_template=True)
    faults = world.faults
    faults.template_content_delay_s = 3.0
    world.faults = faults
    spec = _spec({"template": "acme/py-template", "homepage": "https://example.com"})
    sink = MemoryProgress()
    await provisioner.provision(spec, {}, sink=sink)
    repo = world.repository(ORG, "settings-bot")
    assert repo is not None
    assert set(repo.files) >= {"README.md", PROJECT_FILE_PATH}
    assert {"template", "homepage"} <= set(sink.settings)

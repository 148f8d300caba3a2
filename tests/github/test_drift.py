"""Drift against the sandbox: a person changes a setting in GitHub's UI, ``find_drift`` names
exactly it, ``restore`` puts it back with the fewest requests, and then nothing drifted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from sandbox import GitHubSandbox
from shared.github.client import GitHubClient
from shared.github.models import Repository
from shared.provisioning.drift import Drifted, find_drift, restore
from shared.provisioning.settings.apply import SettingsApplier
from shared.provisioning.settings.entries import DesiredSetting, desired_settings
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import ProjectSpec
from tests.github.test_provisioning import MemoryProgress, NoSleep
from tests.github_fixtures import ORG, Clock

pytestmark = pytest.mark.integration

NAME = "drift-bot"
BASE = f"/repos/{ORG}/{NAME}"
DESCRIPTION = "declared"
EVERY_KIND: dict[str, Any] = {
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
    # octocat is an outsider (a pending invitation), hubot a member (a collaborator at once)
    "collaborators": {"octocat": "push", "Hubot": "maintain"},
    "variables": {"PYTHON_VERSION": "3.12", "node_version": "22"},
    "protection": {
        "required_approvals": 1,
        "code_owner_review": True,
        "dismiss_stale_reviews": True,
        "status_checks": ["ci", "lint"],
        "linear_history": True,
        "block_force_push": True,
    },
    "environments": {"production": {"wait_timer": 5}, "staging": {"wait_timer": 0}},
    "custom_properties": {"cost_center": "cc-42", "stack": ["python", "go"]},
}
PROTECTION_SHAPE: dict[str, Any] = dict(EVERY_KIND["protection"])


@dataclass
class Provisioned:
    """A ready repository: what the reconcile job has when it starts."""

    sandbox: GitHubSandbox
    applier: SettingsApplier
    repo: Repository
    entries: dict[str, DesiredSetting]
    ids: dict[str, int | None]

    async def drift(self) -> list[Drifted]:
        repo_json = await self.applier.api.get_repository_json(ORG, NAME)
        return await find_drift(
            self.applier, self.repo, repo_json, self.entries, self.ids, description=DESCRIPTION
        )

    @property
    def ruleset_id(self) -> int:
        found = self.ids["protection"]
        assert found is not None
        return found


def _sent(sandbox: GitHubSandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests if not r.path.startswith("/app")]


@pytest.fixture
def world(github_sandbox: GitHubSandbox) -> GitHubSandbox:
    for team in ("platform", "reviewers", "others"):
        github_sandbox.add_team(ORG, team)
    github_sandbox.add_user("octocat")
    github_sandbox.add_user("hubot", member_of=[ORG])
    github_sandbox.add_user("someone-else")
    github_sandbox.define_property(ORG, "cost_center")
    github_sandbox.define_property(
        ORG, "stack", "multi_select", allowed_values=["go", "python", "rust"]
    )
    github_sandbox.add_repository(ORG, "tpl", {"README.md": "# t\n"}, is_template=True)
    return github_sandbox


async def _provision(
    github: GitHubClient, world: GitHubSandbox, clock: Clock, asked: dict[str, Any]
) -> Provisioned:
    spec = ProjectSpec(
        id=uuid4(),
        display_name=NAME,
        repo_name=NAME,
        description=DESCRIPTION,
        owner="alice",
        repository=asked,
        settings=desired_settings(asked),
    )
    sink = MemoryProgress()
    await Provisioner(github, sleep=NoSleep(clock)).provision(spec, {}, sink=sink)
    assert set(sink.settings) == set(spec.settings), sink.refused
    applier = SettingsApplier(github)
    repo = Repository.from_json(await applier.api.get_repository_json(ORG, NAME))
    ids = {key: saved.github_id for key, saved in sink.settings.items()}
    return Provisioned(world, applier, repo, dict(spec.settings), ids)


@pytest.fixture
async def ready(github: GitHubClient, world: GitHubSandbox, clock: Clock) -> Provisioned:
    return await _provision(github, world, clock, EVERY_KIND)


@pytest.mark.parametrize("template", [False, True], ids=["created", "from-template"])
async def test_a_freshly_provisioned_repository_has_no_drift(
    github: GitHubClient, world: GitHubSandbox, clock: Clock, template: bool
) -> None:
    asked = {**EVERY_KIND, "template": "acme/tpl"} if template else EVERY_KIND
    ready = await _provision(github, world, clock, asked)
    stored = world.repository(ORG, NAME)
    assert stored is not None
    assert [i.invitee.login for i in stored.invitations.values()] == ["octocat"]
    assert "octocat" not in stored.collaborators  # invited, not accepted: still no drift
    repo_json = await ready.applier.api.get_repository_json(ORG, NAME)
    world.reset_requests()
    found = await find_drift(
        ready.applier, ready.repo, repo_json, ready.entries, ready.ids, description=DESCRIPTION
    )
    assert found == []
    # the repository object carries fields, description, topics and custom properties
    assert _sent(world) == [
        ("GET", f"{BASE}/teams"),
        ("GET", f"{BASE}/collaborators"),
        ("GET", f"{BASE}/invitations"),
        ("GET", f"{BASE}/actions/variables/PYTHON_VERSION"),
        ("GET", f"{BASE}/actions/variables/NODE_VERSION"),
        ("GET", f"{BASE}/environments/production"),
        ("GET", f"{BASE}/environments/staging"),
        ("GET", f"{BASE}/rulesets/{ready.ruleset_id}"),
    ]


async def test_what_is_not_declared_or_only_normalised_is_no_drift(ready: Provisioned) -> None:
    s = ready.sandbox
    s.set_team_access(ORG, NAME, "others", "admin")  # a team we never declared
    s.set_collaborator(ORG, NAME, "someone-else", "admin")  # a person we never declared
    s.edit_repository(ORG, NAME, allow_update_branch=True, has_discussions=True)
    s.set_topics(ORG, NAME, ["agents", "python"])  # another order
    s.set_variable(ORG, NAME, "UNDECLARED", "x")
    s.set_property_values(ORG, NAME, {"stack": ["go", "python"]})  # another order
    (invitation,) = s.repository(ORG, NAME).invitations  # type: ignore[union-attr]
    s.accept_invitation(invitation)  # octocat is now a collaborator at the declared role
    assert await ready.drift() == []


@dataclass(frozen=True)
class Case:
    """A change behind the App's back and what must come of it."""

    change: Callable[[Provisioned], None]
    key: str
    was: Any
    restored_by: list[tuple[str, str]]
    """The requests ``restore`` makes (paths under the repository, ``{id}``: the ruleset's)."""


def _edit(**fields: Any) -> Callable[[Provisioned], None]:
    return lambda p: p.sandbox.edit_repository(ORG, NAME, **fields)


def _delete_ruleset(p: Provisioned) -> None:
    p.sandbox.delete_ruleset(ORG, NAME, p.ruleset_id)


def _disable_ruleset(p: Provisioned) -> None:
    p.sandbox.edit_ruleset(ORG, NAME, p.ruleset_id, enforcement="disabled")


def _allow_force_push(p: Provisioned) -> None:
    ruleset = p.sandbox.repository(ORG, NAME).rulesets[p.ruleset_id]  # type: ignore[union-attr]
    rules = [r for r in ruleset.rules if r["type"] != "non_fast_forward"]
    p.sandbox.edit_ruleset(ORG, NAME, p.ruleset_id, rules=list(reversed(rules)))


PATCH_REPO = [("PATCH", "")]
CASES = {
    "visibility": Case(_edit(visibility="public"), "visibility", "public", PATCH_REPO),
    "homepage": Case(_edit(homepage="https://evil.example"), "homepage",
                     "https://evil.example", PATCH_REPO),
    "features": Case(_edit(has_wiki=True), "features",
                     {"issues": True, "wiki": True, "projects": False}, PATCH_REPO),
    "merge": Case(_edit(allow_auto_merge=False), "merge",
                  {**EVERY_KIND["merge"], "auto_merge": False}, PATCH_REPO),
    "description": Case(_edit(description="changed by hand"), "description",
                        "changed by hand", PATCH_REPO),
    "description-emptied": Case(_edit(description=""), "description", None, PATCH_REPO),
    "topics": Case(lambda p: p.sandbox.set_topics(ORG, NAME, ["python", "other"]), "topics",
                   ["python", "other"], [("PUT", "/topics")]),
    "team-changed": Case(lambda p: p.sandbox.set_team_access(ORG, NAME, "platform", "pull"),
                         "teams.platform", "pull", [("PUT", "/orgs/acme/teams/platform")]),
    "team-removed": Case(lambda p: p.sandbox.set_team_access(ORG, NAME, "reviewers", None),
                         "teams.reviewers", None, [("PUT", "/orgs/acme/teams/reviewers")]),
    "collaborator-removed": Case(
        lambda p: p.sandbox.set_collaborator(ORG, NAME, "hubot", None), "collaborators.Hubot",
        None, [("PUT", "/collaborators/Hubot")]),
    "collaborator-changed": Case(
        lambda p: p.sandbox.set_collaborator(ORG, NAME, "hubot", "admin"),
        "collaborators.Hubot", "admin", [("PUT", "/collaborators/Hubot")]),
    "invitation-withdrawn": Case(
        lambda p: p.sandbox.set_collaborator(ORG, NAME, "octocat", None),
        "collaborators.octocat", None, [("PUT", "/collaborators/octocat")]),
    "variable-changed": Case(
        lambda p: p.sandbox.set_variable(ORG, NAME, "PYTHON_VERSION", "2.7"),
        "variables.PYTHON_VERSION", "2.7", [("PATCH", "/actions/variables/PYTHON_VERSION")]),
    "variable-deleted": Case(
        lambda p: p.sandbox.set_variable(ORG, NAME, "NODE_VERSION", None),
        "variables.NODE_VERSION", None, [("POST", "/actions/variables")]),
    "ruleset-disabled": Case(_disable_ruleset, "protection",
                             {**PROTECTION_SHAPE, "ruleset": {"enforcement": "disabled"}},
                             [("PUT", "/rulesets/{id}")]),
    "ruleset-rule-removed": Case(_allow_force_push, "protection",
                                 {**PROTECTION_SHAPE, "block_force_push": False},
                                 [("PUT", "/rulesets/{id}")]),
    "ruleset-deleted": Case(_delete_ruleset, "protection", None, [("POST", "/rulesets")]),
    "environment-deleted": Case(
        lambda p: p.sandbox.delete_environment(ORG, NAME, "production"),
        "environments.production", None, [("PUT", "/environments/production")]),
    "custom-property-changed": Case(
        lambda p: p.sandbox.set_property_values(ORG, NAME, {"cost_center": "cc-hacked"}),
        "custom_properties", {"cost_center": "cc-hacked", "stack": ["python", "go"]},
        [("PATCH", "/properties/values")]),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_each_drift_is_named_restored_and_then_gone(ready: Provisioned, case: Case) -> None:
    old_id = ready.ruleset_id
    case.change(ready)
    found = await ready.drift()
    wanted = DESCRIPTION if case.key == "description" else ready.entries[case.key].value
    assert [(d.key, d.was, d.wanted) for d in found] == [(case.key, case.was, wanted)]
    ready.sandbox.reset_requests()
    new_ids = await restore(ready.applier, ready.repo, found, ready.ids)
    assert _sent(ready.sandbox) == [
        (m, p + BASE if p.startswith("/orgs") else BASE + p.format(id=old_id))
        for m, p in case.restored_by
    ]
    assert set(new_ids) == ({case.key} if case.key != "description" else set())
    if case.key == "protection":
        assert (new_ids["protection"] == old_id) == (case.was is not None)
    ready.ids.update(new_ids)
    assert await ready.drift() == []


async def test_restoring_fields_and_description_together_costs_one_patch(
    ready: Provisioned,
) -> None:
    ready.sandbox.edit_repository(
        ORG,
        NAME,
        visibility="public",
        homepage="",
        has_issues=False,
        delete_branch_on_merge=False,
        description="changed by hand",
    )
    found = await ready.drift()
    assert {d.key for d in found} == {"visibility", "homepage", "features", "merge", "description"}
    ready.sandbox.reset_requests()
    assert await restore(ready.applier, ready.repo, found, ready.ids) == {
        "visibility": None,
        "homepage": None,
        "features": None,
        "merge": None,
    }
    (patch,) = [r for r in ready.sandbox.requests if not r.path.startswith("/app")]
    assert (patch.method, patch.path) == ("PATCH", BASE)
    assert patch.json["description"] == DESCRIPTION
    stored = ready.sandbox.repository(ORG, NAME)
    assert stored is not None and stored.visibility == "private"
    assert await ready.drift() == []


async def test_every_kind_drifted_at_once_is_restored_in_one_pass(ready: Provisioned) -> None:
    at_once = [
        "visibility", "homepage", "features", "merge", "description", "topics", "team-changed",
        "team-removed", "collaborator-changed", "invitation-withdrawn", "variable-changed",
        "variable-deleted", "ruleset-deleted", "environment-deleted", "custom-property-changed",
    ]  # fmt: skip
    for name in at_once:
        CASES[name].change(ready)
    found = await ready.drift()
    assert sorted(d.key for d in found) == sorted(CASES[name].key for name in at_once)
    ready.ids.update(await restore(ready.applier, ready.repo, found, ready.ids))
    assert await ready.drift() == []

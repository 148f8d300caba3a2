"""Conformance: what the client sends validates against GitHub's own OpenAPI description.

The description is read from ``../shared/github/rest-api-subset.json`` (beside
the repository, in CI too), independently of the sandbox's vendored copy, which
must be identical. Every request the client made in a run of every operation
is checked: method, path, path parameters, query and JSON body.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from uuid import uuid4

import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from sandbox import GitHubSandbox
from sandbox.models import RequestRecord
from shared.github.client import GitHubClient
from shared.provisioning.settings.apply import SettingsApplier
from shared.provisioning.settings.entries import RULESET_NAME, desired_settings
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import ProjectSpec
from tests.github_fixtures import ORG, Clock, github_config, hidden

pytestmark = pytest.mark.integration

SPEC_PATH = Path(
    os.environ.get(
        "GITHUB_OPENAPI_SUBSET",
        Path(__file__).resolve().parents[3] / "shared" / "github" / "rest-api-subset.json",
    )
)
VENDORED = Path(__file__).resolve().parents[2] / "sandbox" / "openapi" / "rest-api-subset.json"


@cache
def _spec() -> tuple[OpenAPI, list[tuple[str, str, re.Pattern[str]]]]:
    if not SPEC_PATH.exists():
        if os.environ.get("CI"):
            pytest.fail(f"GitHub's OpenAPI description is missing at {SPEC_PATH}")
        pytest.skip(f"no {SPEC_PATH} beside this checkout")
    document = json.loads(SPEC_PATH.read_text("utf-8"))
    routes = []
    for pattern, item in document["paths"].items():
        regex = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(pattern))
        regex = regex.replace("(?P<path>[^/]+)", "(?P<path>.+)")
        for method in item:
            routes.append((method.upper(), pattern, re.compile(regex)))
    return OpenAPI.from_dict(document), routes


class _Request:
    host_url = "https://api.github.com"

    def __init__(self, record: RequestRecord) -> None:
        _, routes = _spec()
        found = [
            (pattern, m)
            for method, pattern, regex in routes
            if method == record.method and (m := regex.fullmatch(record.path))
        ]
        if not found:
            raise AssertionError(f"{record.method} {record.path} is not in GitHub's description")
        pattern, match = found[0]
        self.method = record.method.lower()
        self.path = record.path
        self.path_pattern = pattern
        self.body = json.dumps(record.json).encode() if record.json is not None else None
        self.content_type = "application/json"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(record.query.items())),
            header=Headers(),
            path=match.groupdict(),
        )


def violations(records: list[RequestRecord]) -> list[str]:
    """Each request GitHub's description rejects, with the reason."""
    openapi, _ = _spec()
    found = []
    for record in records:
        try:
            errors = list(openapi.iter_request_errors(_Request(record)))
        except AssertionError as exc:
            found.append(str(exc))
            continue
        found.extend(f"{record.method} {record.path}: {error}" for error in errors)
    return found


def test_vendored_description_is_githubs() -> None:
    _spec()
    assert VENDORED.read_bytes() == SPEC_PATH.read_bytes()


async def test_every_request_the_client_sends_conforms(
    github: GitHubClient,
    github_sandbox: GitHubSandbox,
    sandbox_url: str,
    app_key_pem: bytes,
    clock: Clock,
) -> None:
    for n in range(120):  # two pages of installations
        github_sandbox.add_installation(f"user{n}", account_type="User")
    await github.check_credentials()
    spec = ProjectSpec(
        id=uuid4(), display_name="Conformance", repo_name="conformance",
        description="every operation", secret_names=["A", "B"],
    )  # fmt: skip
    provisioner = Provisioner(github)
    await provisioner.provision(spec, hidden({"A": "1", "B": "2"}))
    await provisioner.provision(spec, hidden({"A": "1"}))  # adopt path: GET repo, GET file
    changed = ProjectSpec(id=spec.id, display_name="Conformance", repo_name="conformance")
    await provisioner.provision(changed, {})  # update with sha
    await github.mint_token(repositories=["conformance"], permissions={"contents": "write"})
    await github.get_actions_public_key(ORG, "conformance", refresh=True)
    settings = github_config(sandbox_url, app_key_pem, org=ORG)
    async with GitHubClient(settings, clock=clock) as by_org:
        await by_org.installation()
    methods = {(r.method, re.sub(r"/repos/[^/]+/[^/]+", "/repos/{o}/{r}", r.path))
               for r in github_sandbox.requests}  # fmt: skip
    assert len(methods) >= 11
    assert violations(github_sandbox.requests) == []


def test_a_request_github_would_refuse_is_caught() -> None:
    bad = [
        RequestRecord("POST", "/orgs/acme/repos", {}, {"name": 5}, 422, "installation", 1, 0.0),
        RequestRecord("PUT", "/repos/a/b/contents/x", {}, {"content": "eA=="}, 422, "i", 1, 0.0),
        RequestRecord("GET", "/user/emails", {}, None, 404, "installation", 1, 0.0),
    ]
    found = violations(bad)
    assert len(found) == 3, found


async def test_every_settings_request_conforms(
    github: GitHubClient, github_sandbox: GitHubSandbox
) -> None:
    """Every repository-settings request: applied, re-applied, read back and removed."""
    full = json.loads((Path(__file__).parents[2] / "bench" / "settings_example.json").read_text())
    for team in full["teams"]:
        github_sandbox.add_team(ORG, team)
    github_sandbox.add_user("octocat")
    github_sandbox.define_property(ORG, "cost_center")
    github_sandbox.add_repository(ORG, "tpl", {"README.md": "# t\n"}, is_template=True)
    provisioner = Provisioner(github)
    spec = ProjectSpec(
        id=uuid4(), display_name="Settings", repo_name="settings",
        repository=full, settings=desired_settings(full),
    )  # fmt: skip
    await provisioner.provision(spec, {})
    from_template = {k: v for k, v in full.items() if k != "custom_properties"}
    from_template["template"] = "acme/tpl"
    templated = ProjectSpec(
        id=uuid4(), display_name="Templated", repo_name="templated",
        repository=from_template, settings=desired_settings(from_template),
    )  # fmt: skip
    await provisioner.provision(templated, {})
    applier = SettingsApplier(github)
    repo = await github.get_repository(ORG, "settings")
    for entry in spec.settings.values():  # again: variables PATCH, ruleset found and PUT
        await applier.apply(repo, entry, None)
    api = applier.api
    await api.get_topics(ORG, "settings")
    await api.team_permissions(ORG, "settings")
    await api.collaborator_permissions(ORG, "settings")
    await api.get_variable(ORG, "settings", "PYTHON_VERSION")
    ruleset_id = (await api.ruleset_ids(ORG, "settings"))[RULESET_NAME]
    await api.get_ruleset(ORG, "settings", ruleset_id)
    await api.get_environment(ORG, "settings", "production")
    await api.get_custom_properties(ORG, "settings")
    await api.get_repository_json(ORG, "settings")
    for entry in spec.settings.values():
        await applier.remove(repo, entry, ruleset_id)
    assert violations(github_sandbox.requests) == []

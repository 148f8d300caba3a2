"""GitHub requests per project for repository settings, counted by an in-process sandbox.

Three projects, each with a warm token (so only the project's own requests count):

* nothing asked: create + ``.project.yaml`` (the minimum, 2);
* create-body settings only (visibility, homepage, features, merge, custom
  properties): they travel in the create request, so the minimum is still 2;
* the full example of the README: 2 + one request per other setting (topics,
  2 teams, 1 collaborator, 1 variable, 1 environment, the ruleset) = 9;

then each again with its saved progress: a re-run makes no request (minimum 0).

    python -m bench.settings_requests
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from bench.common import header, quiet_logs, table
from sandbox import GitHubSandbox
from sandbox.server import serve_in_thread
from shared.github.client import GitHubClient
from shared.provisioning.settings.entries import desired_settings
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import (
    AppliedSetting,
    EnsuredRepository,
    NoProgressKept,
    Progress,
    ProjectSpec,
)
from shared.settings import GitHubSettings

__all__ = ["FULL_EXAMPLE", "main"]

COMMAND = "python -m bench.settings_requests"
ORG = "acme"
APP_ID = 4242
FULL_EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).with_name("settings_example.json")).read_text()
)
_BODY_ONLY: dict[str, Any] = {
    k: FULL_EXAMPLE[k]
    for k in ("visibility", "homepage", "features", "merge", "custom_properties")
    if k in FULL_EXAMPLE
}
CASES: tuple[tuple[str, dict[str, Any], int], ...] = (
    ("nothing asked", {}, 2),
    ("create-body settings only", _BODY_ONLY, 2),
    ("the full example", FULL_EXAMPLE, 9),
)


class _Recorder(NoProgressKept):
    """Keeps what a run did, so the re-run resumes from it."""

    def __init__(self) -> None:
        self.repo: EnsuredRepository | None = None
        self.file: tuple[str, str] | None = None
        self.settings: dict[str, AppliedSetting] = {}

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        self.repo = repo

    async def project_file_committed(self, sha: str, digest: str) -> None:
        self.file = (sha, digest)

    async def setting_applied(self, key: str, digest: str, github_id: int | None) -> None:
        self.settings[key] = AppliedSetting(digest, github_id)

    def progress(self) -> Progress:
        return Progress(
            repository=self.repo,
            project_file_sha=self.file[0] if self.file else None,
            project_file_digest=self.file[1] if self.file else None,
            settings=dict(self.settings),
        )


def _world(key: rsa.RSAPrivateKey) -> GitHubSandbox:
    sandbox = GitHubSandbox(APP_ID, key.public_key())
    sandbox.add_installation(ORG)
    for team in FULL_EXAMPLE.get("teams", {}):
        sandbox.add_team(ORG, team)
    for login in FULL_EXAMPLE.get("collaborators", {}):
        sandbox.add_user(login, member_of=[ORG])
    for name in FULL_EXAMPLE.get("custom_properties", {}):
        sandbox.define_property(ORG, name)
    return sandbox


async def run() -> list[tuple[str, int, int, int]]:
    """``(case, requests, re-run requests, minimum)`` per case."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    sandbox = _world(key)
    rows: list[tuple[str, int, int, int]] = []
    with serve_in_thread(sandbox) as url:
        settings = GitHubSettings(
            api_url=url, app_id=str(APP_ID), app_private_key=SecretStr(pem), org=ORG
        )
        async with GitHubClient(settings.app) as github:
            provisioner = Provisioner(github)
            await github.installation_token()
            for index, (case, asked, least) in enumerate(CASES):
                name = f"settings-bench-{index}"
                spec = ProjectSpec(
                    id=uuid4(),
                    display_name=name,
                    repo_name=name,
                    repository=asked,
                    settings=desired_settings(asked),
                )
                recorder = _Recorder()
                sandbox.reset_requests()
                await provisioner.provision(spec, {}, sink=recorder)
                first = sandbox.count()
                sandbox.reset_requests()
                await provisioner.provision(spec, {}, progress=recorder.progress())
                rows.append((case, first, sandbox.count(), least))
    assert sandbox.spec_violations == [], sandbox.spec_violations
    return rows


def main() -> None:
    """Print the requests per project for each case against its minimum."""
    quiet_logs()
    header("GitHub requests per project: repository settings", COMMAND)
    rows = asyncio.run(run())
    table(
        ["case", "requests", "minimum", "met", "re-run requests"],
        [
            [case, str(n), str(least), "yes" if n == least else "NO", str(again)]
            for case, n, again, least in rows
        ],
    )


if __name__ == "__main__":
    main()

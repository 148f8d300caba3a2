"""After ready, on GitHub: apply what changed, push or remove secrets, archive or delete.

Only what differs from what GitHub was last given is sent (settings by digest,
``.project.yaml`` by digest, the description against the one applied), so a change
to topics alone costs one request. Repository fields and the description travel in
one ``PATCH``. A setting no longer asked for is removed (team access revoked,
variable deleted, ruleset deleted, topics emptied).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import SecretStr

from shared.github.client import GitHubClient
from shared.github.errors import GitHubError
from shared.github.models import ActionsPublicKey, Repository
from shared.github.repo_lifecycle import RepositoryLifecycleAPI
from shared.projects.maintenance import MaintenanceOutcome, MaintenanceWork, StoredSetting
from shared.provisioning.settings.apply import SettingsApplier, rejection
from shared.provisioning.settings.entries import (
    REPOSITORY_FIELD_KINDS,
    DesiredSetting,
    desired_settings,
    repository_fields,
)
from shared.provisioning.steps import Provisioner
from shared.provisioning.values import EnsuredRepository, ProjectSpec, file_digest

__all__ = ["Converger", "repository_of", "spec_of"]

_log = structlog.get_logger(__name__)


def repository_of(work: MaintenanceWork) -> Repository:
    """The project's repository as stored when it became ready."""
    repo = work.repo
    full_name = str(repo["repo_full_name"])
    owner, _, name = full_name.partition("/")
    return Repository(
        id=int(repo["repo_github_id"] or 0),
        owner=str(repo["repo_owner"] or owner),
        name=name,
        full_name=full_name,
        html_url=str(repo["repo_html_url"] or ""),
        clone_url=str(repo["repo_clone_url"] or ""),
        default_branch=str(repo["repo_default_branch"] or "main"),
        private=True,
        created_at=None,
        size=1,
    )


def spec_of(work: MaintenanceWork) -> ProjectSpec:
    """What the project declares now (its ``.project.yaml`` and settings)."""
    return ProjectSpec(
        id=work.project_id,
        display_name=work.name,
        repo_name=str(work.repo.get("repo_full_name") or "").partition("/")[2],
        description=work.description,
        owner=work.owner,
        config=work.config,
        secret_names=list(work.secret_names),
        repository=work.repository_settings,
        settings=desired_settings(work.repository_settings),
    )


def _stored_entry(key: str) -> DesiredSetting:
    """A setting no longer asked for, rebuilt from its key (enough to remove it)."""
    kind, _, name = key.partition(".")
    return DesiredSetting(key=key, kind=kind, name=name or None, value=None)


class Converger:
    """Makes a ready project's repository what the project declares now."""

    def __init__(self, github: GitHubClient, provisioner: Provisioner) -> None:
        self._github = github
        self._provisioner = provisioner
        self.applier = SettingsApplier(github)
        self.lifecycle = RepositoryLifecycleAPI(github)

    async def apply_changes(self, work: MaintenanceWork, outcome: MaintenanceOutcome) -> None:
        """Settings, description and ``.project.yaml``: what differs from what was applied."""
        repo, spec = repository_of(work), spec_of(work)
        entries = spec.settings
        stored: Mapping[str, StoredSetting] = work.settings
        changed = [
            e
            for e in entries.values()
            if e.kind != "template"
            and (stored.get(e.key) is None or stored[e.key].digest != e.digest)
        ]
        fields = [e for e in changed if e.kind in REPOSITORY_FIELD_KINDS]
        body: dict[str, Any] = repository_fields({e.key: e for e in fields})
        describe = work.description != work.applied_description
        if describe:
            body["description"] = work.description or ""
        if body:
            try:
                await self.applier.api.update_repository(repo.owner, repo.name, body)
            except GitHubError as exc:
                self._refused(fields, exc, repo.owner, outcome)
            else:
                outcome.description_applied = describe
                for entry in fields:
                    outcome.settings_applied[entry.key] = (entry.digest, None)
        for entry in changed:
            if entry.kind in REPOSITORY_FIELD_KINDS:
                continue
            saved = stored.get(entry.key)
            try:
                github_id = await self.applier.apply(
                    repo, entry, saved.github_id if saved is not None else None
                )
            except GitHubError as exc:
                self._refused([entry], exc, repo.owner, outcome)
                continue
            outcome.settings_applied[entry.key] = (entry.digest, github_id)
        for key, saved in stored.items():
            if key in entries:
                continue
            if saved.digest is not None:  # applied once: take it back on GitHub
                await self.applier.remove(repo, _stored_entry(key), saved.github_id)
            outcome.settings_removed.append(key)
        await self.ensure_project_file(work, outcome)

    def _refused(
        self,
        entries: list[DesiredSetting],
        exc: GitHubError,
        org: str,
        outcome: MaintenanceOutcome,
    ) -> None:
        if not entries:
            raise exc
        for entry in entries:
            why = rejection(entry, exc, org)
            if why is None:
                raise exc
            outcome.settings_failed[entry.key] = f"{entry.key}: {why}"
            _log.warning("maintenance.setting_rejected", setting=entry.key, reason=why)

    async def ensure_project_file(
        self, work: MaintenanceWork, outcome: MaintenanceOutcome, *, read_first: bool = False
    ) -> None:
        """Commit ``.project.yaml`` when what it must hold differs from what was committed
        (``read_first``: compare with the file on GitHub, for drift)."""
        spec = spec_of(work)
        digest = file_digest(spec.project_file())
        if not read_first and work.repo.get("project_file_digest") == digest:
            return
        repo = EnsuredRepository(repository=repository_of(work), created=False)
        known = None if read_first else work.repo.get("project_file_sha")
        committed, sha = await self._provisioner.ensure_project_file(spec, repo, known_sha=known)
        if committed or work.repo.get("project_file_digest") != digest:
            outcome.project_file = (sha, digest)
        if committed and read_first:
            outcome.drift[".project.yaml"] = {"was": "edited or deleted", "now": "restored"}

    async def push_secrets(
        self,
        work: MaintenanceWork,
        values: Mapping[str, SecretStr],
        outcome: MaintenanceOutcome,
    ) -> None:
        """Set each pending secret and remove each one being removed."""
        repo = repository_of(work)
        key_id, key = work.repo.get("actions_key_id"), work.repo.get("actions_public_key")
        if key_id and key:
            self._github.remember_public_key(
                repo.owner, repo.name, ActionsPublicKey(key_id=str(key_id), key=str(key))
            )
        for name, value in values.items():
            await self._github.set_actions_secret(repo.owner, repo.name, name, value)
            outcome.secrets_set[name] = work.pending_secrets[name]
        for name in work.removing_secrets:
            await self.lifecycle.delete_secret(repo.owner, repo.name, name)
            outcome.secrets_removed.append(name)

    async def remove_repository(self, work: MaintenanceWork, outcome: MaintenanceOutcome) -> None:
        """Archive the repository (or delete it, for a purge); gone already is done too."""
        if work.repo.get("repo_full_name"):
            repo = repository_of(work)
            if work.removal == "purge":
                await self.lifecycle.delete(repo.owner, repo.name)
            else:
                await self.lifecycle.set_archived(repo.owner, repo.name, True)
        outcome.removed = True

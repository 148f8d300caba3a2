"""Applying one setting on GitHub, reading it back, removing it: one request where possible.

Every apply converges: run it again and GitHub ends up the same (a variable that
exists is updated, the ruleset is found by its name when its id is unknown).
:func:`rejection` tells a refusal for good (a team that does not exist, a
permission the App lacks) from a failure worth retrying, and says it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.github.client import GitHubClient
from shared.github.errors import (
    Conflict,
    Forbidden,
    GitHubError,
    GitHubHTTPError,
    NotFound,
    ValidationFailed,
)
from shared.github.models import Repository
from shared.github.repo_settings import RepositorySettingsAPI
from shared.provisioning.settings.entries import (
    RULESET_NAME,
    DesiredSetting,
    repository_fields,
)

__all__ = ["SettingsApplier", "rejection", "ruleset_body"]


def ruleset_body(protection: dict[str, Any], app_id: int | None) -> dict[str, Any]:
    """The ruleset ``protection`` asks for, on the default branch; the App may bypass it
    (so that provisioner can still commit ``.project.yaml``)."""
    rules: list[dict[str, Any]] = [{"type": "deletion"}]
    rules.append(
        {
            "type": "pull_request",
            "parameters": {
                "required_approving_review_count": protection["required_approvals"],
                "require_code_owner_review": protection["code_owner_review"],
                "dismiss_stale_reviews_on_push": protection["dismiss_stale_reviews"],
                "require_last_push_approval": False,
                "required_review_thread_resolution": False,
            },
        }
    )
    if protection["status_checks"]:
        rules.append(
            {
                "type": "required_status_checks",
                "parameters": {
                    "required_status_checks": [
                        {"context": check} for check in protection["status_checks"]
                    ],
                    "strict_required_status_checks_policy": False,
                },
            }
        )
    if protection["linear_history"]:
        rules.append({"type": "required_linear_history"})
    if protection["block_force_push"]:
        rules.append({"type": "non_fast_forward"})
    body: dict[str, Any] = {
        "name": RULESET_NAME,
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
        "rules": rules,
    }
    if app_id is not None:
        body["bypass_actors"] = [
            {"actor_id": app_id, "actor_type": "Integration", "bypass_mode": "always"}
        ]
    return body


class SettingsApplier:
    """Applies settings to repositories of ``github``'s installation."""

    def __init__(self, github: GitHubClient) -> None:
        self._github = github
        self._api = RepositorySettingsAPI(github)

    @property
    def api(self) -> RepositorySettingsAPI:
        """The raw requests (for reading settings back)."""
        return self._api

    async def apply_repository_fields(
        self, repo: Repository, entries: Sequence[DesiredSetting]
    ) -> None:
        """Visibility, homepage, features and merge options: one ``PATCH``."""
        fields = repository_fields({e.key: e for e in entries})
        if fields:
            await self._api.update_repository(repo.owner, repo.name, fields)

    async def apply(
        self, repo: Repository, setting: DesiredSetting, github_id: int | None = None
    ) -> int | None:
        """Make ``setting`` so on GitHub; returns GitHub's id of what it made (a ruleset)."""
        owner, name, api = repo.owner, repo.name, self._api
        kind, value = setting.kind, setting.value
        if kind == "topics":
            await api.replace_topics(owner, name, value)
        elif kind == "teams":
            await api.set_team_permission(owner, str(setting.name), owner, name, value)
        elif kind == "collaborators":
            await api.add_collaborator(owner, name, str(setting.name), value)
        elif kind == "variables":
            try:
                await api.create_variable(owner, name, str(setting.name), value)
            except Conflict:  # it exists (an earlier try, or someone): change it instead
                await api.update_variable(owner, name, str(setting.name), value)
        elif kind == "environments":
            await api.put_environment(owner, name, str(setting.name), dict(value))
        elif kind == "custom_properties":
            await api.set_custom_properties(owner, name, dict(value))
        elif kind == "protection":
            return await self._apply_ruleset(repo, value, github_id)
        elif kind in ("visibility", "homepage", "features", "merge"):
            await self.apply_repository_fields(repo, [setting])
        # ``template`` is how the repository was made: nothing to apply afterwards.
        return None

    async def _apply_ruleset(
        self, repo: Repository, protection: dict[str, Any], github_id: int | None
    ) -> int:
        body = ruleset_body(protection, (await self._github.installation()).app_id)
        owner, name = repo.owner, repo.name
        if github_id is not None:
            try:
                await self._api.update_ruleset(owner, name, github_id, body)
                return github_id
            except NotFound:
                pass  # deleted since: make it again
        try:
            return await self._api.create_ruleset(owner, name, body)
        except ValidationFailed:
            # Names are unique per repository: an earlier try may have made it.
            existing = (await self._api.ruleset_ids(owner, name)).get(RULESET_NAME)
            if existing is None:
                raise
            await self._api.update_ruleset(owner, name, existing, body)
            return existing

    async def remove(
        self, repo: Repository, setting: DesiredSetting, github_id: int | None
    ) -> None:
        """Undo ``setting`` on GitHub (a setting no longer asked for)."""
        owner, name, api = repo.owner, repo.name, self._api
        kind = setting.kind
        try:
            if kind == "topics":
                await api.replace_topics(owner, name, [])
            elif kind == "teams":
                await api.remove_team(owner, str(setting.name), owner, name)
            elif kind == "collaborators":
                await api.remove_collaborator(owner, name, str(setting.name))
            elif kind == "variables":
                await api.delete_variable(owner, name, str(setting.name))
            elif kind == "environments":
                await api.delete_environment(owner, name, str(setting.name))
            # custom_properties stay: unsetting one takes ``value: null``, which GitHub's
            # description does not allow (``nullable`` beside ``oneOf`` has no effect in 3.0).
            elif kind == "protection" and github_id is not None:
                await api.delete_ruleset(owner, name, github_id)
        except NotFound:
            return  # already gone


def rejection(setting: DesiredSetting, exc: GitHubError, org: str) -> str | None:
    """Why GitHub refused ``setting`` for good, in words; ``None`` when trying again may help."""
    if exc.transient or not exc.spends_attempt or not isinstance(exc, GitHubHTTPError):
        return None
    if isinstance(exc, Forbidden):
        if exc.accepted_permissions:
            return (
                f"the App lacks the permission {exc.accepted_permissions} (GitHub: {exc.message})"
            )
        return f"GitHub refused it (403): {exc.message}"
    if isinstance(exc, NotFound):
        if setting.kind == "teams":
            return f'no team "{setting.name}" in {org}'
        if setting.kind == "collaborators":
            return f'no GitHub user "{setting.name}"'
        if setting.kind == "template":
            return f'no template repository "{setting.value}" the App can see'
        return f"GitHub answered 404 ({exc.method} {exc.path})"
    details = [
        str(e.get("message") or e.get("code") or "")
        for e in exc.errors
        if e.get("message") or e.get("code")
    ]
    suffix = f" ({'; '.join(details)})" if details else ""
    return f"GitHub refused it ({exc.status}): {exc.message}{suffix}"

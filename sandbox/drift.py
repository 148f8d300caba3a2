"""Behind-the-back changes: a person clicking in GitHub's UI, not the App (for drift tests).

A mixin of :class:`sandbox.core.GitHubSandbox`. Nothing here is a request: no token, no
permission, no rate limit, nothing recorded. GitHub's rules for the values still hold
(topics, roles, property schema...): a refused value raises ValueError, an unknown
repository, team, person, variable, ruleset, environment or file raises KeyError.
Each method has an HTTP twin under ``/_sandbox/repos/{owner}/{repo}`` (see
:mod:`sandbox.admin_drift`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.models import Collaborator, Commit, PropertyValue, SandboxRepository, VariableRecord
from sandbox.names import MAX_VARIABLE_BYTES, normalize_repo_name, secret_name_problem
from sandbox.properties import checked_values
from sandbox.repo_settings import DEFAULTS, apply_visibility, normalize_topics
from sandbox.roles import ROLES
from sandbox.state import SandboxState

__all__ = ["PERSON", "Drift"]

PERSON = {"name": "Sandbox Person", "email": "person@users.noreply.github.com"}
"""Author of the commits a person makes behind the App's back."""

_RULESET_FIELDS = ("name", "target", "enforcement", "conditions", "rules", "bypass_actors")


class Drift:
    """Changes as a person would make them in the web UI."""

    _state: SandboxState

    def _repo(self, owner: str, name: str) -> SandboxRepository:
        self._state.settle()
        repo = self._state.repository(owner, name)
        if repo is None:
            raise KeyError(f"{owner}/{name}")
        return repo

    def _touch(self, repo: SandboxRepository) -> None:
        repo.updated_at = self._state.clock()

    def edit_repository(self, owner: str, name: str, **fields: Any) -> None:
        """Change ``name``, ``description``, ``visibility``/``private``, ``archived`` or any
        setting (``has_wiki=False``, ``allow_auto_merge=True``, ``has_discussions=True``...)."""
        known = {"name", "description", "visibility", "private", "archived", *DEFAULTS}
        unknown = set(fields) - known
        if unknown:
            raise ValueError(f"not repository fields: {', '.join(sorted(unknown))}")
        with self._state.lock:
            repo = self._repo(owner, name)
            visibility = fields.get("visibility")
            if "private" in fields and visibility is None:
                visibility = "private" if fields["private"] else "public"
            if visibility not in {None, "public", "private", "internal"}:
                raise ValueError("visibility is public, private or internal")
            if visibility == "internal" and not self._state.org(repo.owner.login).enterprise:
                raise ValueError("only an enterprise organization has internal repositories")
            new = repo.name
            if "name" in fields:
                new, problem = normalize_repo_name(str(fields["name"]))
                taken = self._state.repository(repo.owner.login, new)
                if problem or (taken is not None and taken is not repo):
                    raise ValueError(problem or f"{new} exists already")
            if new != repo.name:
                self._state.rename_repository(repo, new)
            if visibility is not None:
                apply_visibility(repo, visibility)
            if "description" in fields:
                repo.description = fields["description"] or None
            if "archived" in fields:
                repo.archived = bool(fields["archived"])
            repo.settings.update({k: v for k, v in fields.items() if k in DEFAULTS})
            self._touch(repo)

    def archive_repository(self, owner: str, name: str, archived: bool = True) -> None:
        """Archive (or unarchive) the repository."""
        self.edit_repository(owner, name, archived=archived)

    def delete_repository(self, owner: str, name: str) -> None:
        """Delete the repository."""
        with self._state.lock:
            self._state.delete_repository(self._repo(owner, name))

    def set_topics(self, owner: str, name: str, topics: Sequence[str]) -> None:
        """Replace every topic (GitHub's topic rules apply)."""
        normalized, problem = normalize_topics(topics)
        if problem:
            raise ValueError(problem)
        with self._state.lock:
            repo = self._repo(owner, name)
            repo.topics = normalized
            self._touch(repo)

    def set_team_access(self, owner: str, name: str, team_slug: str, role: str | None) -> None:
        """Give team ``team_slug`` ``role`` (pull ... admin) on the repository; None removes it."""
        if role is not None and role not in ROLES:
            raise ValueError(f"role is one of {', '.join(ROLES)}")
        with self._state.lock:
            repo = self._repo(owner, name)
            team = self._state.team(repo.owner.login, team_slug)
            if team is None:
                raise KeyError(f"team {team_slug}")
            if role is None:
                repo.team_access.pop(team.id, None)
            else:
                repo.team_access[team.id] = role

    def set_collaborator(self, owner: str, name: str, login: str, role: str | None) -> None:
        """Make ``login`` a collaborator at ``role`` at once (no invitation); None removes
        them and withdraws their pending invitation."""
        if role is not None and role not in ROLES:
            raise ValueError(f"role is one of {', '.join(ROLES)}")
        with self._state.lock:
            repo = self._repo(owner, name)
            user = self._state.user(login)
            if user is None:
                raise KeyError(f"user {login}")
            key = user.login.lower()
            if role is not None:
                repo.collaborators[key] = Collaborator(user, role)
                return
            repo.collaborators.pop(key, None)
            for invitation_id in [i.id for i in repo.invitations.values() if i.invitee is user]:
                del repo.invitations[invitation_id]

    def set_variable(self, owner: str, name: str, variable: str, value: str | None) -> None:
        """Create or change Actions variable ``variable``; None deletes it (KeyError if none)."""
        problem = secret_name_problem(variable, "Variable")
        if value is not None and len(value.encode()) > MAX_VARIABLE_BYTES:
            problem = "a variable's value is at most 48 KB"
        if problem:
            raise ValueError(problem)
        key = variable.upper()
        with self._state.lock:
            repo = self._repo(owner, name)
            now = self._state.clock()
            if value is None:
                del repo.variables[key]
            elif key in repo.variables:
                repo.variables[key].value, repo.variables[key].updated_at = value, now
            else:
                repo.variables[key] = VariableRecord(key, value, now, now)

    def edit_ruleset(self, owner: str, name: str, ruleset_id: int, **fields: Any) -> None:
        """Change a ruleset's ``name``, ``target``, ``enforcement``, ``conditions``, ``rules``
        or ``bypass_actors``."""
        unknown = set(fields) - set(_RULESET_FIELDS)
        if unknown:
            raise ValueError(f"not ruleset fields: {', '.join(sorted(unknown))}")
        with self._state.lock:
            ruleset = self._repo(owner, name).rulesets[ruleset_id]
            for key, value in fields.items():
                setattr(ruleset, key, value)
            ruleset.updated_at = self._state.clock()

    def delete_ruleset(self, owner: str, name: str, ruleset_id: int) -> None:
        """Delete a ruleset."""
        with self._state.lock:
            del self._repo(owner, name).rulesets[ruleset_id]

    def set_branch_protection(
        self, owner: str, name: str, branch: str, protection: dict[str, Any] | None
    ) -> None:
        """Replace the classic protection of ``branch`` (the PUT body's shape); None removes."""
        with self._state.lock:
            repo = self._repo(owner, name)
            if protection is None:
                del repo.protection[branch]
            else:
                repo.protection[branch] = dict(protection)

    def delete_environment(self, owner: str, name: str, environment: str) -> None:
        """Delete a deployment environment."""
        with self._state.lock:
            del self._repo(owner, name).environments[environment.lower()]

    def set_property_values(
        self, owner: str, name: str, values: Mapping[str, PropertyValue | None]
    ) -> None:
        """Set custom property values (checked against the org's schema); None unsets."""
        with self._state.lock:
            repo = self._repo(owner, name)
            checked = checked_values(self._state.org(repo.owner.login), values.items())
            for key, value in checked.items():
                if value is None:
                    repo.custom_properties.pop(key, None)
                else:
                    repo.custom_properties[key] = value

    def write_file(
        self, owner: str, name: str, path: str, text: str, message: str | None = None
    ) -> Commit:
        """Create or edit a file on the default branch, as one commit by :data:`PERSON`."""
        with self._state.lock:
            repo = self._repo(owner, name)
            verb = "Update" if path in repo.files else "Create"
            return self._state.commit_file(
                repo, path, text.encode(), message or f"{verb} {path}", dict(PERSON)
            )

    def delete_file(self, owner: str, name: str, path: str, message: str | None = None) -> Commit:
        """Delete a file from the default branch, as one commit by :data:`PERSON`."""
        with self._state.lock:
            repo = self._repo(owner, name)
            if path not in repo.files:
                raise KeyError(path)
            return self._state.delete_file(repo, path, message or f"Delete {path}", dict(PERSON))

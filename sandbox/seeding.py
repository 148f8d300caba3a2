"""Setting the world up: users, teams, property schemas, enterprise orgs, permissions.

A mixin of :class:`sandbox.core.GitHubSandbox`; it also holds the one thing a person
(not the App) does in a test: accepting an invitation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sandbox.models import Account, Collaborator, PropertyDefinition, PropertyValue, Team
from sandbox.properties import VALUE_TYPES, check_value
from sandbox.state import SandboxState

__all__ = ["Seeding"]

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")


class Seeding:
    """Seeding methods; every change happens under the state's lock."""

    _state: SandboxState

    def add_user(self, login: str, *, member_of: Sequence[str] = ()) -> Account:
        """A GitHub user the App can invite; a member of the orgs in ``member_of``.

        Members get repository access at once (204), outsiders an invitation (201).
        """
        with self._state.lock:
            known = self._state.accounts.get(login.lower())
            if known is not None and known.type != "User":
                raise ValueError(f"{login} is an organization")
            user = self._state.account(login, "User")
            for org in member_of:
                self._state.org(org).members.add(login.lower())
            return user

    def add_team(
        self,
        org: str,
        slug: str,
        *,
        name: str | None = None,
        description: str | None = None,
        privacy: str = "closed",
    ) -> Team:
        """A team of ``org`` (``slug``: lower-case letters, digits, hyphens)."""
        if not _SLUG.fullmatch(slug):
            raise ValueError(f"invalid team slug {slug!r}")
        if privacy not in {"closed", "secret"}:
            raise ValueError("privacy is closed or secret")
        with self._state.lock:
            s = self._state
            teams = s.org(org).teams
            if slug in teams:
                raise ValueError(f"{org} has a team {slug} already")
            team = Team(s.new_id(), slug, name or slug, description, privacy, s.clock())
            teams[slug] = team
            return team

    def define_property(
        self,
        org: str,
        name: str,
        value_type: str = "string",
        *,
        allowed_values: Sequence[str] | None = None,
        required: bool = False,
        default_value: PropertyValue | None = None,
        description: str | None = None,
        values_editable_by: str = "org_actors",
    ) -> PropertyDefinition:
        """Add (or replace) custom property ``name`` in ``org``'s schema.

        Selects need ``allowed_values``; a required property needs a ``default_value``,
        which repositories created afterwards start with.
        """
        if value_type not in VALUE_TYPES:
            raise ValueError(f"value_type is one of {', '.join(VALUE_TYPES)}")
        selects = value_type in {"single_select", "multi_select"}
        if selects != bool(allowed_values):
            raise ValueError("allowed_values go with single_select and multi_select only")
        if required and default_value is None:
            raise ValueError("a required property needs a default_value")
        definition = PropertyDefinition(
            name,
            value_type,
            required,
            None,
            description,
            list(allowed_values) if allowed_values else None,
            values_editable_by,
        )
        if default_value is not None:
            definition.default_value = check_value(definition, default_value)
        with self._state.lock:
            self._state.org(org).properties[name.lower()] = definition
        return definition

    def set_enterprise(self, org: str, enterprise: bool = True) -> None:
        """Whether ``org`` belongs to an enterprise (only then ``visibility: internal``)."""
        with self._state.lock:
            self._state.org(org).enterprise = enterprise

    def set_installation_permissions(
        self, installation_id: int, permissions: dict[str, str]
    ) -> None:
        """Replace what the installation is granted (tokens issued before keep theirs)."""
        with self._state.lock:
            self._state.installations[installation_id].permissions = dict(permissions)

    def accept_invitation(self, invitation_id: int) -> None:
        """Accept a pending invitation as its invitee would (also ``POST
        /_sandbox/invitations/{invitation_id}/accept``); KeyError when there is none."""
        with self._state.lock:
            for repo in self._state.repos.values():
                invitation = repo.invitations.pop(invitation_id, None)
                if invitation is not None:
                    key = invitation.invitee.login.lower()
                    repo.collaborators[key] = Collaborator(invitation.invitee, invitation.role)
                    return
        raise KeyError(f"invitation {invitation_id}")

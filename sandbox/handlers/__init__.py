"""Endpoint handlers, one module per area of the REST API, and the table routing to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError
from sandbox.handlers import (
    apps,
    collaborators,
    contents,
    environments,
    meta,
    repos,
    rules,
    secrets,
    settings,
    teams,
    templates,
    variables,
)

__all__ = ["HANDLERS", "UNIMPLEMENTED", "UNIMPLEMENTED_HEADER", "Handler"]

UNIMPLEMENTED_HEADER = "x-sandbox-unimplemented"


@dataclass(frozen=True)
class Handler:
    """How to serve one operation: ``auth`` is ``"app"`` (App JWT) or ``"installation"``."""

    run: Callable[[Ctx], Reply]
    auth: str


_I = "installation"

HANDLERS: dict[str, Handler] = {
    "apps/get-authenticated": Handler(apps.get_app, "app"),
    "apps/list-installations": Handler(apps.list_installations, "app"),
    "apps/get-org-installation": Handler(apps.get_org_installation, "app"),
    "apps/get-repo-installation": Handler(apps.get_repo_installation, "app"),
    "apps/create-installation-access-token": Handler(apps.create_access_token, "app"),
    "repos/list-for-org": Handler(repos.list_for_org, _I),
    "repos/create-in-org": Handler(repos.create_in_org, _I),
    "repos/list-for-authenticated-user": Handler(repos.list_for_user, _I),
    "repos/create-for-authenticated-user": Handler(repos.create_for_user, _I),
    "repos/get": Handler(repos.get_repo, _I),
    "repos/update": Handler(repos.update_repo, _I),
    "repos/delete": Handler(repos.delete_repo, _I),
    "repos/create-using-template": Handler(templates.create_using_template, _I),
    "repos/get-all-topics": Handler(settings.get_topics, _I),
    "repos/replace-all-topics": Handler(settings.put_topics, _I),
    "repos/get-content": Handler(contents.get_content, _I),
    "repos/create-or-update-file-contents": Handler(contents.put_content, _I),
    "repos/delete-file": Handler(contents.delete_content, _I),
    "actions/get-repo-public-key": Handler(secrets.get_public_key, _I),
    "actions/list-repo-secrets": Handler(secrets.list_secrets, _I),
    "actions/get-repo-secret": Handler(secrets.get_secret, _I),
    "actions/create-or-update-repo-secret": Handler(secrets.put_secret, _I),
    "actions/delete-repo-secret": Handler(secrets.delete_secret, _I),
    "actions/list-repo-variables": Handler(variables.list_variables, _I),
    "actions/create-repo-variable": Handler(variables.create_variable, _I),
    "actions/get-repo-variable": Handler(variables.get_variable, _I),
    "actions/update-repo-variable": Handler(variables.update_variable, _I),
    "actions/delete-repo-variable": Handler(variables.delete_variable, _I),
    "teams/get-by-name": Handler(teams.get_team, _I),
    "teams/check-permissions-for-repo-in-org": Handler(teams.check_team_repo, _I),
    "teams/add-or-update-repo-permissions-in-org": Handler(teams.put_team_repo, _I),
    "teams/remove-repo-in-org": Handler(teams.remove_team_repo, _I),
    "repos/list-teams": Handler(teams.list_repo_teams, _I),
    "repos/list-collaborators": Handler(collaborators.list_collaborators, _I),
    "repos/check-collaborator": Handler(collaborators.check_collaborator, _I),
    "repos/add-collaborator": Handler(collaborators.add_collaborator, _I),
    "repos/remove-collaborator": Handler(collaborators.remove_collaborator, _I),
    "repos/list-invitations": Handler(collaborators.list_invitations, _I),
    "repos/update-invitation": Handler(collaborators.update_invitation, _I),
    "repos/delete-invitation": Handler(collaborators.delete_invitation, _I),
    "repos/get-repo-rulesets": Handler(rules.list_rulesets, _I),
    "repos/create-repo-ruleset": Handler(rules.create_ruleset, _I),
    "repos/get-repo-ruleset": Handler(rules.get_ruleset, _I),
    "repos/update-repo-ruleset": Handler(rules.update_ruleset, _I),
    "repos/delete-repo-ruleset": Handler(rules.delete_ruleset, _I),
    "repos/get-branch-protection": Handler(rules.get_protection, _I),
    "repos/update-branch-protection": Handler(rules.put_protection, _I),
    "repos/delete-branch-protection": Handler(rules.delete_protection, _I),
    "repos/get-environment": Handler(environments.get_environment, _I),
    "repos/create-or-update-environment": Handler(environments.put_environment, _I),
    "repos/delete-an-environment": Handler(environments.delete_environment, _I),
    "orgs/custom-properties-for-repos-get-organization-definitions": Handler(
        settings.get_property_schema, _I
    ),
    "repos/custom-properties-for-repos-get-repository-values": Handler(
        settings.get_property_values, _I
    ),
    "repos/custom-properties-for-repos-create-or-update-repository-values": Handler(
        settings.set_property_values, _I
    ),
    "rate-limit/get": Handler(meta.get_rate_limit, _I),
}


def _unimplemented(ctx: Ctx) -> Reply:
    """An operation of the description the sandbox does not simulate: GitHub's 404."""
    raise GitHubError(404, "Not Found", headers={UNIMPLEMENTED_HEADER: ctx.operation})


UNIMPLEMENTED = Handler(_unimplemented, "installation")
"""What answers an operation of the description that has no handler (a hinted 404)."""

"""JSON bodies for access: ``team``, ``team-full``, ``collaborator``, ``repository-invitation``."""

from __future__ import annotations

from typing import Any

from sandbox.models import Account, Invitation, SandboxRepository, Team
from sandbox.payloads import account_json, iso, node_id, repository_json
from sandbox.roles import invitation_permission, role_name, role_permissions

__all__ = ["collaborator_json", "invitation_json", "team_full_json", "team_json"]


def team_json(
    team: Team, org: Account, api: str, web: str, *, role: str | None = None
) -> dict[str, Any]:
    """The ``team`` shape; with ``role``, the team's access to one repository."""
    url = f"{api}/organizations/{org.id}/team/{team.id}"
    body: dict[str, Any] = {
        "id": team.id,
        "node_id": node_id("T_kwDO", team.id),
        "url": url,
        "html_url": f"{web}/orgs/{org.login}/teams/{team.slug}",
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": team.privacy,
        "notification_setting": "notifications_enabled",
        "permission": role or "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "parent": None,
        "type": "organization",
        "organization_id": org.id,
    }
    if role is not None:
        body["permissions"] = role_permissions(role)
    return body


def _organization_json(org: Account, api: str, web: str) -> dict[str, Any]:
    """The ``team-organization`` shape."""
    url = f"{api}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("O_kgDO", org.id),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
        "description": None,
        "html_url": f"{web}/{org.login}",
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "archived_at": None,
    }


def team_full_json(team: Team, org: Account, repos: int, api: str, web: str) -> dict[str, Any]:
    """The ``team-full`` shape; ``repos`` is how many repositories the team can reach."""
    return {
        **team_json(team, org, api, web),
        "members_count": 0,
        "repos_count": repos,
        "created_at": iso(team.created_at),
        "updated_at": iso(team.created_at),
        "organization": _organization_json(org, api, web),
    }


def collaborator_json(account: Account, role: str, api: str, web: str) -> dict[str, Any]:
    """The ``collaborator`` shape: the user, its ``permissions`` and ``role_name``."""
    return {
        **account_json(account, api, web),
        "permissions": role_permissions(role),
        "role_name": role_name(role),
    }


def invitation_json(
    invitation: Invitation, repo: SandboxRepository, api: str, web: str
) -> dict[str, Any]:
    """The ``repository-invitation`` shape."""
    return {
        "id": invitation.id,
        "node_id": node_id("RI_kwDO", invitation.id),
        "repository": repository_json(repo, api, web, full=False),
        "invitee": account_json(invitation.invitee, api, web),
        "inviter": account_json(invitation.inviter, api, web),
        "permissions": invitation_permission(invitation.role),
        "created_at": iso(invitation.created_at),
        "expired": False,
        "url": f"{api}/user/repository_invitations/{invitation.id}",
        "html_url": f"{web}/{repo.full_name}/invitations",
    }

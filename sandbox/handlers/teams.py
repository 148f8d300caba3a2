"""Team access: a team by slug, a team's access to a repository, a repository's teams."""

from __future__ import annotations

from sandbox.context import Ctx, Reply, unprocessable
from sandbox.errors import GitHubError, not_found
from sandbox.handlers.paging import paginate
from sandbox.models import Organization, SandboxRepository, Team
from sandbox.payloads import repository_json
from sandbox.payloads_access import team_full_json, team_json
from sandbox.roles import ROLES, role_name, role_permissions

__all__ = ["check_team_repo", "get_team", "list_repo_teams", "put_team_repo", "remove_team_repo"]

_DOCS = "https://docs.github.com/rest/teams/teams"
_REPOSITORY_MEDIA = "application/vnd.github.v3.repository+json"


def _team(ctx: Ctx) -> tuple[Organization, Team]:
    """The path's org (the installation's, else 404) and team (404 when unknown)."""
    assert ctx.installation is not None
    login = ctx.params["org"]
    if ctx.installation.account.login.lower() != login.lower():
        raise not_found(ctx.docs)
    ctx.authorize()
    org = ctx.state.org(login)
    team = org.teams.get(ctx.params["team_slug"].lower())
    if team is None:
        raise not_found(ctx.docs)
    return org, team


def get_team(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/teams/{team_slug}: needs organization members:read."""
    ctx.docs = f"{_DOCS}#get-a-team-by-name"
    org, team = _team(ctx)
    repos = sum(
        1
        for r in ctx.state.repos.values()
        if r.owner.id == org.account.id and team.id in r.team_access
    )
    return Reply(200, team_full_json(team, org.account, repos, ctx.api, ctx.web))


def _team_repo(ctx: Ctx) -> tuple[Organization, Team, SandboxRepository]:
    org, team = _team(ctx)
    return org, team, ctx.repo()


def check_team_repo(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}: 204, or 404 without access.

    With ``Accept: application/vnd.github.v3.repository+json``: 200 and the repository.
    """
    ctx.docs = f"{_DOCS}#check-team-permissions-for-a-repository"
    _, team, repo = _team_repo(ctx)
    role = repo.team_access.get(team.id)
    if role is None:
        raise not_found(ctx.docs)
    if _REPOSITORY_MEDIA not in ctx.headers.get("accept", ""):
        return Reply(204)
    body = repository_json(repo, ctx.api, ctx.web, full=False)
    body.update(permissions=role_permissions(role), role_name=role_name(role))
    return Reply(200, body)


def put_team_repo(ctx: Ctx) -> Reply:
    """PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo} ``{permission}``: 204.

    ``permission`` defaults to ``push``; a repository outside the organization is a 422.
    """
    ctx.docs = f"{_DOCS}#add-or-update-team-repository-permissions"
    org, team, repo = _team_repo(ctx)
    if repo.owner.id != org.account.id:
        raise unprocessable("The repository must be owned by the organization.", ctx.docs)
    role = ctx.json_body().get("permission", "push")
    if role not in ROLES:
        raise GitHubError(
            422,
            "Validation Failed",
            documentation_url=ctx.docs,
            errors=[{"resource": "TeamRepository", "code": "invalid", "field": "permission"}],
        )
    repo.team_access[team.id] = role
    return Reply(204)


def remove_team_repo(ctx: Ctx) -> Reply:
    """DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}: 204 (also without access)."""
    ctx.docs = f"{_DOCS}#remove-a-repository-from-a-team"
    _, team, repo = _team_repo(ctx)
    repo.team_access.pop(team.id, None)
    return Reply(204)


def list_repo_teams(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/teams: each team with access, at its role there."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#list-repository-teams"
    repo = ctx.repo()
    org = ctx.state.org(repo.owner.login)
    by_id = {t.id: t for t in org.teams.values()}
    found = [(by_id[i], role) for i, role in repo.team_access.items() if i in by_id]
    found.sort(key=lambda pair: pair[0].slug)
    url = f"{ctx.api}/repos/{repo.full_name}/teams"
    page, headers = paginate(found, ctx.query, url)
    body = [team_json(t, org.account, ctx.api, ctx.web, role=role) for t, role in page]
    return Reply(200, body, headers)

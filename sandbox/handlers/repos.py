"""Repository endpoints: create in an organization, list, get, change (PATCH), delete."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError, not_accessible, not_found, validation_failed
from sandbox.handlers.paging import paginate
from sandbox.models import Organization, PropertyValue, SandboxRepository
from sandbox.names import normalize_repo_name
from sandbox.payloads import repository_json
from sandbox.properties import checked_values
from sandbox.repo_settings import CREATE_FIELDS, UPDATE_FIELDS, apply_visibility
from sandbox.repo_settings import requested_visibility as visibility_asked

__all__ = [
    "check_new_name",
    "create_for_user",
    "create_in_org",
    "delete_repo",
    "get_repo",
    "list_for_org",
    "list_for_user",
    "update_repo",
]

_CREATE_DOCS = "https://docs.github.com/rest/repos/repos#create-an-organization-repository"
_USER_DOCS = (
    "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user"
)
_UPDATE_DOCS = "https://docs.github.com/rest/repos/repos#update-a-repository"
_INTERNAL = "visibility can't be internal: the organization is not owned by an enterprise"


def _failed(message: str, *, code: str = "custom", field: str = "name", docs: str) -> GitHubError:
    title = "Repository creation failed." if docs == _CREATE_DOCS else "Validation Failed"
    return validation_failed(
        title, resource="Repository", field=field, code=code, detail=message, documentation_url=docs
    )


def check_new_name(
    ctx: Ctx, owner: str, raw: object, docs: str, *, renaming: SandboxRepository | None = None
) -> str:
    """The name GitHub would give a repository asked to be ``raw`` in ``owner``, or a 422."""
    if not isinstance(raw, str):
        raise _failed("name is missing", code="missing_field", docs=docs)
    name, problem = normalize_repo_name(raw)
    if problem:
        raise _failed(problem, docs=docs)
    taken = ctx.state.repository(owner, name)
    if taken is not None and taken is not renaming:
        raise _failed("name already exists on this account", docs=docs)
    return name


def _visibility(org: Organization, body: dict[str, Any], docs: str) -> str | None:
    visibility = visibility_asked(body)
    if visibility == "internal" and not org.enterprise:
        raise _failed(_INTERNAL, field="visibility", docs=docs)
    return visibility


def _properties(org: Organization, raw: object, docs: str) -> dict[str, PropertyValue | None]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _failed("custom_properties must be an object", field="custom_properties", docs=docs)
    try:
        return checked_values(org, raw.items())
    except ValueError as exc:
        raise _failed(str(exc), field="custom_properties", docs=docs) from exc


def create_in_org(ctx: Ctx) -> Reply:
    """POST /orgs/{org}/repos: needs administration:write and an unscoped token."""
    assert ctx.token is not None
    assert ctx.installation is not None
    ctx.docs = _CREATE_DOCS
    login = ctx.params["org"]
    if login.lower() not in ctx.state.accounts:
        raise not_found(_CREATE_DOCS)
    if ctx.installation.account.login.lower() != login.lower():
        raise not_accessible(_CREATE_DOCS)
    if ctx.token.repository_ids is not None:
        raise not_accessible(_CREATE_DOCS)
    ctx.authorize()
    org = ctx.state.org(login)
    body = ctx.json_body()
    name = check_new_name(ctx, login, body.get("name"), _CREATE_DOCS)
    visibility = _visibility(org, body, _CREATE_DOCS) or "public"
    properties = _properties(org, body.get("custom_properties"), _CREATE_DOCS)
    team = None
    if "team_id" in body:
        team = next((t for t in org.teams.values() if t.id == body["team_id"]), None)
        if team is None:
            raise _failed(
                "team_id is not a team of the organization", field="team_id", docs=_CREATE_DOCS
            )
    repo = ctx.state.create_repository(
        org.account.login,
        name,
        private=visibility != "public",
        description=body.get("description") or None,
        settings={k: body[k] for k in CREATE_FIELDS if k in body},
        by_api=True,
    )
    apply_visibility(repo, visibility)
    _store_properties(repo, properties)
    if team is not None:
        repo.team_access[team.id] = "pull"
    if body.get("auto_init"):
        readme = f"# {name}\n" + (f"{repo.description}\n" if repo.description else "")
        ctx.state.commit_file(
            repo, "README.md", readme.encode(), "Initial commit", ctx.state.bot_author()
        )
    location = f"{ctx.api}/repos/{repo.full_name}"
    return Reply(201, repository_json(repo, ctx.api, ctx.web), {"location": location})


def _store_properties(repo: SandboxRepository, values: dict[str, PropertyValue | None]) -> None:
    for name, value in values.items():
        if value is None:
            repo.custom_properties.pop(name, None)
        else:
            repo.custom_properties[name] = value


def create_for_user(ctx: Ctx) -> Reply:
    """POST /user/repos: not enabled for GitHub Apps, always 403 for installation tokens."""
    raise not_accessible(_USER_DOCS)


def list_for_user(ctx: Ctx) -> Reply:
    """GET /user/repos: an installation token is no user, GitHub answers 403."""
    raise not_accessible(
        "https://docs.github.com/rest/repos/repos#list-repositories-for-the-authenticated-user"
    )


_SORT_KEYS = {
    "created": lambda r: r.created_at,
    "updated": lambda r: r.updated_at,
    "pushed": lambda r: r.pushed_at,
    "full_name": lambda r: r.full_name.lower(),
}


def list_for_org(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/repos: the repositories the token can see, sorted and paginated."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#list-organization-repositories"
    login = ctx.params["org"]
    if login.lower() not in ctx.state.orgs and login.lower() not in ctx.state.accounts:
        raise not_found(ctx.docs)
    kind = ctx.query.get("type", "all")
    sort = ctx.query.get("sort", "created")
    found = [
        r
        for r in ctx.state.repos.values()
        if r.owner.login.lower() == login.lower()
        and ctx.can_see(r)
        and not ctx.settling(r)
        and (kind not in {"public", "private"} or r.visibility == kind)
        and kind != "forks"
    ]
    descending = ctx.query.get("direction", "asc" if sort == "full_name" else "desc") == "desc"
    found.sort(key=_SORT_KEYS.get(sort, _SORT_KEYS["created"]), reverse=descending)
    page, headers = paginate(found, ctx.query, f"{ctx.api}/orgs/{login}/repos")
    return Reply(200, [repository_json(r, ctx.api, ctx.web, full=False) for r in page], headers)


def get_repo(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#get-a-repository"
    return Reply(200, repository_json(ctx.repo(), ctx.api, ctx.web))


def update_repo(ctx: Ctx) -> Reply:
    """PATCH /repos/{owner}/{repo}: settings, name, visibility, archiving; all or nothing."""
    ctx.docs = _UPDATE_DOCS
    repo = ctx.repo()
    body = ctx.json_body()
    org = ctx.state.org(repo.owner.login)
    name = repo.name
    if "name" in body:
        name = check_new_name(ctx, repo.owner.login, body["name"], _UPDATE_DOCS, renaming=repo)
    visibility = _visibility(org, body, _UPDATE_DOCS)
    branch = body.get("default_branch")
    if branch is not None and branch != repo.default_branch:
        if not repo.commits:
            raise GitHubError(
                422,
                "Cannot update default branch for an empty repository. "
                "Please init the repository and push first.",
                documentation_url=_UPDATE_DOCS,
            )
        raise _failed(
            f"branch {branch} does not exist",
            code="invalid",
            field="default_branch",
            docs=_UPDATE_DOCS,
        )
    if name != repo.name:
        ctx.state.rename_repository(repo, name)
    if "description" in body:
        repo.description = body["description"] or None
    if visibility is not None:
        apply_visibility(repo, visibility)
    security = repo.settings.get("security_and_analysis") or {}
    for key in UPDATE_FIELDS:
        if key in body:
            repo.settings[key] = body[key]
    if isinstance(body.get("security_and_analysis"), dict):  # merged into, not replaced
        repo.settings["security_and_analysis"] = {**security, **body["security_and_analysis"]}
    if "archived" in body:
        repo.archived = bool(body["archived"])
    repo.updated_at = ctx.state.clock()
    return Reply(200, repository_json(repo, ctx.api, ctx.web))


def delete_repo(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}: needs administration:write."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#delete-a-repository"
    repo = ctx.repo()
    ctx.state.delete_repository(repo)
    return Reply(204)

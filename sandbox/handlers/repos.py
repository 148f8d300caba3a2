"""Repository endpoints: create in an organization, get, delete."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply
from sandbox.errors import not_accessible, not_found, validation_failed
from sandbox.names import normalize_repo_name
from sandbox.payloads import repository_json

__all__ = ["create_for_user", "create_in_org", "delete_repo", "get_repo"]

_CREATE_DOCS = "https://docs.github.com/rest/repos/repos#create-an-organization-repository"
_USER_DOCS = (
    "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user"
)
_GET_DOCS = "https://docs.github.com/rest/repos/repos#get-a-repository"
_SETTINGS = (
    "homepage",
    "has_issues",
    "has_projects",
    "has_wiki",
    "has_downloads",
    "has_discussions",
    "is_template",
    "allow_squash_merge",
    "allow_merge_commit",
    "allow_rebase_merge",
    "allow_auto_merge",
    "delete_branch_on_merge",
)


def _creation_failed(message: str, code: str = "custom") -> Exception:
    return validation_failed(
        "Repository creation failed.",
        resource="Repository",
        field="name",
        code=code,
        detail=message,
        documentation_url=_CREATE_DOCS,
    )


def create_in_org(ctx: Ctx) -> Reply:
    """POST /orgs/{org}/repos: needs administration:write and an unscoped token."""
    assert ctx.token is not None
    assert ctx.installation is not None
    org = ctx.params["org"]
    if org.lower() not in ctx.state.accounts:
        raise not_found(_CREATE_DOCS)
    if ctx.installation.account.login.lower() != org.lower():
        raise not_accessible(_CREATE_DOCS)
    if ctx.token.repository_ids is not None:
        raise not_accessible(_CREATE_DOCS)
    ctx.require("administration", "write")
    body = ctx.json_body()
    raw = body.get("name")
    if not isinstance(raw, str):
        raise _creation_failed("name is missing", code="missing_field")
    name, problem = normalize_repo_name(raw)
    if problem:
        raise _creation_failed(problem)
    if ctx.state.repository(org, name) is not None:
        raise _creation_failed("name already exists on this account")
    private = _private(body)
    settings: dict[str, Any] = {k: body[k] for k in _SETTINGS if k in body}
    repo = ctx.state.create_repository(
        ctx.installation.account.login,
        name,
        private=private,
        description=body.get("description") or None,
        settings=settings,
        by_api=True,
    )
    if body.get("auto_init"):
        readme = f"# {name}\n" + (f"{repo.description}\n" if repo.description else "")
        ctx.state.commit_file(
            repo, "README.md", readme.encode(), "Initial commit", ctx.state.bot_author()
        )
    location = f"{ctx.api}/repos/{repo.full_name}"
    return Reply(201, repository_json(repo, ctx.api, ctx.web), {"location": location})


def _private(body: dict[str, Any]) -> bool:
    visibility = body.get("visibility")
    if visibility in {"public", "private"}:
        return bool(visibility == "private")
    return bool(body.get("private", False))


def create_for_user(ctx: Ctx) -> Reply:
    """POST /user/repos: not enabled for GitHub Apps, always 403 for installation tokens."""
    raise not_accessible(_USER_DOCS)


def get_repo(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}."""
    ctx.docs = _GET_DOCS
    return Reply(200, repository_json(ctx.repo(), ctx.api, ctx.web))


def delete_repo(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}: needs administration:write."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#delete-a-repository"
    repo = ctx.repo()
    ctx.require("administration", "write")
    ctx.state.delete_repository(repo)
    return Reply(204)

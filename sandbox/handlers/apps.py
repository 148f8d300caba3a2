"""App endpoints (App JWT): the App, its installations, installation tokens."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply, has_permission, unprocessable
from sandbox.errors import GitHubError, not_found
from sandbox.handlers.paging import paginate
from sandbox.models import Installation, SandboxRepository
from sandbox.payloads import app_json, installation_json, iso, repository_json

__all__ = [
    "create_access_token",
    "get_app",
    "get_org_installation",
    "get_repo_installation",
    "list_installations",
]

_TOKEN_DOCS = (
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
)


def _installation(ctx: Ctx, inst: Installation) -> dict[str, Any]:
    s = ctx.state
    return installation_json(
        inst, app_id=s.app_id, slug=s.app_slug, client_id=s.client_id, api=ctx.api, web=ctx.web
    )


def get_app(ctx: Ctx) -> Reply:
    """GET /app."""
    s = ctx.state
    permissions: dict[str, str] = {}
    for inst in s.installations.values():
        permissions.update(inst.permissions)
    body = app_json(
        app_id=s.app_id,
        slug=s.app_slug,
        client_id=s.client_id,
        owner=s.app_owner,
        created_at=s.created_at,
        permissions=permissions,
        installations=len(s.installations),
        api=ctx.api,
        web=ctx.web,
    )
    return Reply(200, body)


def list_installations(ctx: Ctx) -> Reply:
    """GET /app/installations, paginated."""
    items = sorted(ctx.state.installations.values(), key=lambda i: i.id)
    page, headers = paginate(items, ctx.query, f"{ctx.api}/app/installations")
    return Reply(200, [_installation(ctx, inst) for inst in page], headers)


def get_org_installation(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/installation."""
    inst = ctx.state.installation_for(ctx.params["org"])
    if inst is None or inst.account.type != "Organization":
        raise not_found(ctx.docs)
    return Reply(200, _installation(ctx, inst))


def get_repo_installation(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/installation: 404 unless the repository exists."""
    repo = ctx.state.repository(ctx.params["owner"], ctx.params["repo"])
    inst = ctx.state.installation_for(ctx.params["owner"])
    if repo is None or inst is None or ctx.settling(repo):
        raise not_found(ctx.docs)
    return Reply(200, _installation(ctx, inst))


def create_access_token(ctx: Ctx) -> Reply:
    """POST /app/installations/{installation_id}/access_tokens, optionally narrowed."""
    s = ctx.state
    try:
        inst = s.installations.get(int(ctx.params["installation_id"]))
    except ValueError:
        inst = None
    if inst is None:
        raise not_found(_TOKEN_DOCS)
    body = ctx.json_body()
    permissions = dict(inst.permissions)
    if body.get("permissions"):
        asked: dict[str, str] = body["permissions"]
        for name, level in asked.items():
            if level not in {"read", "write", "admin"} or not has_permission(
                inst.permissions, name, level
            ):
                raise unprocessable(
                    "The permissions requested are not granted to this installation.",
                    _TOKEN_DOCS,
                )
        permissions = dict(asked)
    repos = _narrowed_repositories(ctx, inst, body)
    ids = frozenset(r.id for r in repos) if repos is not None else None
    token, record = s.tokens.issue(
        inst.id, now=s.clock(), permissions=permissions, repository_ids=ids
    )
    answer: dict[str, Any] = {
        "token": token,
        "expires_at": iso(record.expires_at),
        "permissions": permissions,
        "repository_selection": "selected" if repos is not None else "all",
    }
    if repos is not None:
        answer["repositories"] = [repository_json(r, ctx.api, ctx.web, full=False) for r in repos]
    return Reply(201, answer)


def _narrowed_repositories(
    ctx: Ctx, inst: Installation, body: dict[str, Any]
) -> list[SandboxRepository] | None:
    names: list[str] = body.get("repositories") or []
    ids: list[int] = body.get("repository_ids") or []
    if not names and not ids:
        return None
    mine = [r for r in ctx.state.repos.values() if r.owner.id == inst.account.id]
    by_name = {r.name.lower(): r for r in mine}
    by_id = {r.id: r for r in mine}
    chosen: dict[int, SandboxRepository] = {}
    for name in names:
        repo = by_name.get(str(name).lower())
        if repo is None:
            raise _not_accessible_repos()
        chosen[repo.id] = repo
    for repo_id in ids:
        if repo_id not in by_id:
            raise _not_accessible_repos()
        chosen[repo_id] = by_id[repo_id]
    return list(chosen.values())


def _not_accessible_repos() -> GitHubError:
    return unprocessable(
        "There is at least one repository that does not exist or is not accessible "
        "to the parent installation.",
        _TOKEN_DOCS,
    )

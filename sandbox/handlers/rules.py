"""Protection: repository rulesets, and classic branch protection (stored as sent)."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError, validation_failed
from sandbox.handlers.paging import paginate
from sandbox.models import Ruleset, SandboxRepository
from sandbox.payloads import account_json, iso, node_id
from sandbox.payloads_access import team_json

__all__ = [
    "create_ruleset",
    "delete_protection",
    "delete_ruleset",
    "get_protection",
    "get_ruleset",
    "list_rulesets",
    "put_protection",
    "ruleset_json",
    "update_ruleset",
]

_RULES_DOCS = "https://docs.github.com/rest/repos/rules"
_PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection"
_FLAGS = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
)


def ruleset_json(
    repo: SandboxRepository, rs: Ruleset, api: str, web: str, *, full: bool = True
) -> dict[str, Any]:
    """The ``repository-ruleset`` shape (a list item omits actors, conditions and rules)."""
    url = f"{api}/repos/{repo.full_name}/rulesets/{rs.id}"
    body: dict[str, Any] = {
        "id": rs.id,
        "name": rs.name,
        "target": rs.target,
        "source_type": "Repository",
        "source": repo.full_name,
        "enforcement": rs.enforcement,
        "node_id": node_id("RRS_lACk", rs.id),
        "_links": {
            "self": {"href": url},
            "html": {"href": f"{web}/{repo.full_name}/rules/{rs.id}"},
        },
        "created_at": iso(rs.created_at),
        "updated_at": iso(rs.updated_at),
    }
    if full:
        body.update(bypass_actors=rs.bypass_actors, current_user_can_bypass="never", rules=rs.rules)
        if rs.conditions is not None:  # nullable beside oneOf: a null would not validate
            body["conditions"] = rs.conditions
    return body


def _unique_name(repo: SandboxRepository, name: str, ignore: int | None, docs: str) -> None:
    if any(r.name.lower() == name.lower() and r.id != ignore for r in repo.rulesets.values()):
        raise validation_failed(
            "Validation Failed",
            resource="Ruleset",
            field="name",
            code="already_exists",
            detail="Name must be unique",
            documentation_url=docs,
        )


def list_rulesets(ctx: Ctx) -> Reply:
    """GET .../rulesets: the repository's rulesets, oldest first."""
    ctx.docs = f"{_RULES_DOCS}#get-all-repository-rulesets"
    repo = ctx.repo()
    found = sorted(repo.rulesets.values(), key=lambda r: (r.created_at, r.id))
    page, headers = paginate(found, ctx.query, f"{ctx.api}/repos/{repo.full_name}/rulesets")
    return Reply(200, [ruleset_json(repo, r, ctx.api, ctx.web, full=False) for r in page], headers)


def create_ruleset(ctx: Ctx) -> Reply:
    """POST .../rulesets: 201; a name already used in the repository is a 422."""
    ctx.docs = f"{_RULES_DOCS}#create-a-repository-ruleset"
    repo = ctx.repo()
    body = ctx.json_body()
    name = str(body.get("name", ""))
    _unique_name(repo, name, None, ctx.docs)
    now = ctx.state.clock()
    rs = Ruleset(
        id=ctx.state.new_id(),
        name=name,
        target=body.get("target", "branch"),
        enforcement=str(body.get("enforcement", "disabled")),
        bypass_actors=list(body.get("bypass_actors") or []),
        conditions=body.get("conditions"),
        rules=list(body.get("rules") or []),
        created_at=now,
        updated_at=now,
    )
    repo.rulesets[rs.id] = rs
    return Reply(201, ruleset_json(repo, rs, ctx.api, ctx.web))


def _ruleset(ctx: Ctx, repo: SandboxRepository) -> Ruleset:
    return ctx.numbered(repo.rulesets, "ruleset_id")


def get_ruleset(ctx: Ctx) -> Reply:
    """GET .../rulesets/{ruleset_id}."""
    ctx.docs = f"{_RULES_DOCS}#get-a-repository-ruleset"
    repo = ctx.repo()
    return Reply(200, ruleset_json(repo, _ruleset(ctx, repo), ctx.api, ctx.web))


def update_ruleset(ctx: Ctx) -> Reply:
    """PUT .../rulesets/{ruleset_id}: the fields sent replace the stored ones; 200."""
    ctx.docs = f"{_RULES_DOCS}#update-a-repository-ruleset"
    repo = ctx.repo()
    rs = _ruleset(ctx, repo)
    body = ctx.json_body()
    if "name" in body:
        _unique_name(repo, str(body["name"]), rs.id, ctx.docs)
        rs.name = str(body["name"])
    for key in ("target", "enforcement", "conditions"):
        if key in body:
            setattr(rs, key, body[key])
    for key in ("bypass_actors", "rules"):
        if key in body:
            setattr(rs, key, list(body[key] or []))
    rs.updated_at = ctx.state.clock()
    return Reply(200, ruleset_json(repo, rs, ctx.api, ctx.web))


def delete_ruleset(ctx: Ctx) -> Reply:
    """DELETE .../rulesets/{ruleset_id}: 204."""
    ctx.docs = f"{_RULES_DOCS}#delete-a-repository-ruleset"
    repo = ctx.repo()
    del repo.rulesets[_ruleset(ctx, repo).id]
    return Reply(204)


def _branch(ctx: Ctx) -> tuple[SandboxRepository, str]:
    repo = ctx.repo()
    branch = ctx.params["branch"]
    if not repo.commits or branch != repo.default_branch:
        raise GitHubError(404, "Branch not found", documentation_url=ctx.docs)
    return repo, branch


def _people(ctx: Ctx, repo: SandboxRepository, sent: dict[str, Any]) -> dict[str, list[Any]]:
    """``users`` and ``teams`` (logins, slugs) as objects; 422 naming an unknown one."""
    users, teams = [], []
    for login in sent.get("users") or []:
        user = ctx.state.user(str(login))
        if user is None:
            raise GitHubError(
                422,
                "Validation Failed",
                documentation_url=ctx.docs,
                errors=[f"User {login} not found"],
            )
        users.append(account_json(user, ctx.api, ctx.web))
    for slug in sent.get("teams") or []:
        team = ctx.state.team(repo.owner.login, str(slug))
        if team is None:
            raise GitHubError(
                422,
                "Validation Failed",
                documentation_url=ctx.docs,
                errors=[f"Team {slug} not found"],
            )
        teams.append(team_json(team, repo.owner, ctx.api, ctx.web))
    return {"users": users, "teams": teams}


def _protection_json(ctx: Ctx, repo: SandboxRepository, branch: str) -> dict[str, Any]:
    """The ``branch-protection`` / ``protected-branch`` shape of what was sent."""
    sent = repo.protection[branch]
    url = f"{ctx.api}/repos/{repo.full_name}/branches/{branch}/protection"
    out: dict[str, Any] = {"url": url}
    checks = sent.get("required_status_checks")
    if checks:
        listed = checks.get("checks") or [{"context": c} for c in checks.get("contexts") or []]
        out["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": bool(checks.get("strict")),
            "contexts": [c["context"] for c in listed],
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": [{"context": c["context"], "app_id": c.get("app_id")} for c in listed],
        }
    out["enforce_admins"] = {
        "url": f"{url}/enforce_admins",
        "enabled": bool(sent.get("enforce_admins")),
    }
    reviews = sent.get("required_pull_request_reviews")
    if reviews:
        rendered: dict[str, Any] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews")),
            "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
            "required_approving_review_count": int(
                reviews.get("required_approving_review_count", 0)
            ),
            "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
        }
        for key in ("dismissal_restrictions", "bypass_pull_request_allowances"):
            if reviews.get(key):
                rendered[key] = {**_people(ctx, repo, reviews[key]), "apps": []}
        if "dismissal_restrictions" in rendered:
            rendered["dismissal_restrictions"].update(
                url=f"{url}/dismissal_restrictions",
                users_url=f"{url}/dismissal_restrictions/users",
                teams_url=f"{url}/dismissal_restrictions/teams",
            )
        out["required_pull_request_reviews"] = rendered
    restrictions = sent.get("restrictions")
    if restrictions:
        out["restrictions"] = {
            "url": f"{url}/restrictions",
            "users_url": f"{url}/restrictions/users",
            "teams_url": f"{url}/restrictions/teams",
            "apps_url": f"{url}/restrictions/apps",
            **_people(ctx, repo, restrictions),
            "apps": [],
        }
    out.update({flag: {"enabled": bool(sent.get(flag))} for flag in _FLAGS})
    out["required_signatures"] = {"url": f"{url}/required_signatures", "enabled": False}
    return out


def get_protection(ctx: Ctx) -> Reply:
    """GET .../branches/{branch}/protection: 404 "Branch not protected" when none."""
    ctx.docs = f"{_PROTECTION_DOCS}#get-branch-protection"
    repo, branch = _branch(ctx)
    if branch not in repo.protection:
        raise GitHubError(404, "Branch not protected", documentation_url=ctx.docs)
    return Reply(200, _protection_json(ctx, repo, branch))


def put_protection(ctx: Ctx) -> Reply:
    """PUT .../branches/{branch}/protection: replaces the protection; 200."""
    ctx.docs = f"{_PROTECTION_DOCS}#update-branch-protection"
    repo, branch = _branch(ctx)
    body = ctx.json_body()
    if body.get("restrictions") and repo.owner.type != "Organization":
        raise GitHubError(
            422,
            "Validation Failed",
            documentation_url=ctx.docs,
            errors=["Only organization repositories can have users and team restrictions"],
        )
    previous = repo.protection.get(branch)
    repo.protection[branch] = body
    try:
        answer = _protection_json(ctx, repo, branch)
    except GitHubError:
        if previous is None:
            del repo.protection[branch]
        else:
            repo.protection[branch] = previous
        raise
    return Reply(200, answer)


def delete_protection(ctx: Ctx) -> Reply:
    """DELETE .../branches/{branch}/protection: 204; 404 when the branch is not protected."""
    ctx.docs = f"{_PROTECTION_DOCS}#delete-branch-protection"
    repo, branch = _branch(ctx)
    if repo.protection.pop(branch, None) is None:
        raise GitHubError(404, "Branch not protected", documentation_url=ctx.docs)
    return Reply(204)

"""Deployment environments: get, create or update (PUT), delete."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError, not_found
from sandbox.models import Environment, SandboxRepository
from sandbox.payloads import account_json, iso, node_id
from sandbox.payloads_access import team_json

__all__ = [
    "MAX_REVIEWERS",
    "MAX_WAIT_TIMER",
    "delete_environment",
    "get_environment",
    "put_environment",
]

MAX_WAIT_TIMER = 43_200
MAX_REVIEWERS = 6
_DOCS = "https://docs.github.com/rest/deployments/environments"


def _invalid(message: str, docs: str) -> GitHubError:
    return GitHubError(422, message, documentation_url=docs)


def _reviewer_json(ctx: Ctx, repo: SandboxRepository, kind: str, ident: int) -> dict[str, Any]:
    if kind == "User":
        user = next((a for a in ctx.state.accounts.values() if a.id == ident), None)
        return {"type": kind, "reviewer": account_json(user, ctx.api, ctx.web) if user else None}
    org = ctx.state.org(repo.owner.login)
    team = next((t for t in org.teams.values() if t.id == ident), None)
    reviewer = team_json(team, org.account, ctx.api, ctx.web) if team else None
    return {"type": kind, "reviewer": reviewer}


def _rule(env: Environment, n: int, kind: str) -> dict[str, Any]:
    return {"id": env.id + n, "node_id": node_id("GA_kwDO", env.id + n), "type": kind}


def _environment_json(ctx: Ctx, repo: SandboxRepository, env: Environment) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    if env.wait_timer:
        rules.append({**_rule(env, 1, "wait_timer"), "wait_timer": env.wait_timer})
    if env.reviewers:
        reviewers = [_reviewer_json(ctx, repo, k, i) for k, i in env.reviewers]
        rules.append(
            {
                **_rule(env, 2, "required_reviewers"),
                "prevent_self_review": env.prevent_self_review,
                "reviewers": reviewers,
            }
        )
    if env.deployment_branch_policy:
        rules.append(_rule(env, 3, "branch_policy"))
    return {
        "id": env.id,
        "node_id": node_id("EN_kwDO", env.id),
        "name": env.name,
        "url": f"{ctx.api}/repos/{repo.full_name}/environments/{env.name}",
        "html_url": f"{ctx.web}/{repo.full_name}/deployments/activity_log"
        f"?environments_filter={env.name}",
        "created_at": iso(env.created_at),
        "updated_at": iso(env.updated_at),
        "protection_rules": rules,
        "deployment_branch_policy": env.deployment_branch_policy,
    }


def _found(ctx: Ctx, repo: SandboxRepository) -> Environment:
    env = repo.environments.get(ctx.params["environment_name"].lower())
    if env is None:
        raise not_found(ctx.docs)
    return env


def get_environment(ctx: Ctx) -> Reply:
    """GET .../environments/{environment_name}."""
    ctx.docs = f"{_DOCS}#get-an-environment"
    repo = ctx.repo()
    return Reply(200, _environment_json(ctx, repo, _found(ctx, repo)))


def _reviewers(ctx: Ctx, repo: SandboxRepository, raw: object) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            raise _invalid("Each reviewer needs a type and an id.", ctx.docs)
        kind, ident = item.get("type"), item.get("id")
        known = (
            any(a.id == ident and a.type == "User" for a in ctx.state.accounts.values())
            if kind == "User"
            else any(t.id == ident for t in ctx.state.org(repo.owner.login).teams.values())
        )
        if not known:
            raise _invalid(f"Reviewer {kind} {ident} could not be found.", ctx.docs)
        found.append((str(kind), int(ident or 0)))
    if len(found) > MAX_REVIEWERS:
        raise _invalid(f"An environment can have at most {MAX_REVIEWERS} reviewers.", ctx.docs)
    return found


def put_environment(ctx: Ctx) -> Reply:
    """PUT .../environments/{environment_name}: creates or updates; 200.

    ``wait_timer`` 0..43200 minutes, at most six known reviewers, else 422.
    """
    ctx.docs = f"{_DOCS}#create-or-update-an-environment"
    repo = ctx.repo()
    body = ctx.json_body()
    name = ctx.params["environment_name"]
    env = repo.environments.get(name.lower())
    wait = body.get("wait_timer", env.wait_timer if env else 0)
    if not isinstance(wait, int) or not 0 <= wait <= MAX_WAIT_TIMER:
        raise _invalid(
            f"Invalid wait_timer: it must be between 0 and {MAX_WAIT_TIMER} minutes.", ctx.docs
        )
    reviewers = _reviewers(ctx, repo, body["reviewers"]) if "reviewers" in body else None
    now = ctx.state.clock()
    if env is None:
        env = Environment(ctx.state.new_id(), name, 0, False, [], None, now, now)
        repo.environments[name.lower()] = env
    env.wait_timer = wait
    if reviewers is not None:
        env.reviewers = reviewers
    if "prevent_self_review" in body:
        env.prevent_self_review = bool(body["prevent_self_review"])
    if "deployment_branch_policy" in body:
        env.deployment_branch_policy = body["deployment_branch_policy"]
    env.updated_at = now
    return Reply(200, _environment_json(ctx, repo, env))


def delete_environment(ctx: Ctx) -> Reply:
    """DELETE .../environments/{environment_name}: 204."""
    ctx.docs = f"{_DOCS}#delete-an-environment"
    repo = ctx.repo()
    del repo.environments[_found(ctx, repo).name.lower()]
    return Reply(204)

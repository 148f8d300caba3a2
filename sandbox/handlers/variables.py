"""Actions variables: create (409 when the name exists), list, get, change, delete.

Names follow the secret rules (case-insensitive, stored upper-case, no ``GITHUB_``
prefix, no leading digit); values at most 48 KB; at most 500 per repository.
"""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply, unprocessable
from sandbox.errors import GitHubError, not_found
from sandbox.handlers.paging import paginate
from sandbox.models import SandboxRepository, VariableRecord
from sandbox.names import MAX_VARIABLE_BYTES, MAX_VARIABLES, secret_name_problem
from sandbox.payloads import iso

__all__ = [
    "create_variable",
    "delete_variable",
    "get_variable",
    "list_variables",
    "update_variable",
    "variable_json",
]

_DOCS = "https://docs.github.com/rest/actions/variables"


def variable_json(record: VariableRecord) -> dict[str, Any]:
    """The ``actions-variable`` shape."""
    return {
        "name": record.name,
        "value": record.value,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }


def _name(raw: object, docs: str) -> str:
    if not isinstance(raw, str):
        raise unprocessable('Invalid request.\n\n"name" wasn\'t supplied.', docs)
    problem = secret_name_problem(raw, "Variable")
    if problem:
        raise unprocessable(f"Invalid request.\n\n{problem}", docs)
    return raw.upper()


def _value(raw: object, docs: str) -> str:
    if not isinstance(raw, str):
        raise unprocessable('Invalid request.\n\n"value" wasn\'t supplied.', docs)
    if len(raw.encode()) > MAX_VARIABLE_BYTES:
        raise unprocessable("Variable value is too large: the maximum is 48 KB.", docs)
    return raw


def _exists(docs: str) -> GitHubError:
    return GitHubError(409, "Already exists - Variable already exists", documentation_url=docs)


def _found(ctx: Ctx, repo: SandboxRepository) -> VariableRecord:
    record = repo.variables.get(ctx.params["name"].upper())
    if record is None:
        raise not_found(ctx.docs)
    return record


def create_variable(ctx: Ctx) -> Reply:
    """POST .../actions/variables ``{name, value}``: 201; 409 when the name exists."""
    ctx.docs = f"{_DOCS}#create-a-repository-variable"
    repo = ctx.repo()
    body = ctx.json_body()
    name, value = _name(body.get("name"), ctx.docs), _value(body.get("value"), ctx.docs)
    if name in repo.variables:
        raise _exists(ctx.docs)
    if len(repo.variables) >= MAX_VARIABLES:
        raise unprocessable(
            f"Variable limit reached: a repository can have at most {MAX_VARIABLES} variables.",
            ctx.docs,
        )
    now = ctx.state.clock()
    repo.variables[name] = VariableRecord(name, value, now, now)
    return Reply(201, {})


def list_variables(ctx: Ctx) -> Reply:
    """GET .../actions/variables: names and values, 10 per page by default (at most 30)."""
    ctx.docs = f"{_DOCS}#list-repository-variables"
    repo = ctx.repo()
    items = [repo.variables[n] for n in sorted(repo.variables)]
    url = f"{ctx.api}/repos/{repo.full_name}/actions/variables"
    page, headers = paginate(items, ctx.query, url, default=10, maximum=30)
    body = {"total_count": len(items), "variables": [variable_json(r) for r in page]}
    return Reply(200, body, headers)


def get_variable(ctx: Ctx) -> Reply:
    """GET .../actions/variables/{name}."""
    ctx.docs = f"{_DOCS}#get-a-repository-variable"
    return Reply(200, variable_json(_found(ctx, ctx.repo())))


def update_variable(ctx: Ctx) -> Reply:
    """PATCH .../actions/variables/{name} ``{name?, value?}``: 204 (a new name renames)."""
    ctx.docs = f"{_DOCS}#update-a-repository-variable"
    repo = ctx.repo()
    record = _found(ctx, repo)
    body = ctx.json_body()
    name = _name(body["name"], ctx.docs) if "name" in body else record.name
    value = _value(body["value"], ctx.docs) if "value" in body else record.value
    if name != record.name:
        if name in repo.variables:
            raise _exists(ctx.docs)
        del repo.variables[record.name]
        record.name = name
        repo.variables[name] = record
    record.value, record.updated_at = value, ctx.state.clock()
    return Reply(204)


def delete_variable(ctx: Ctx) -> Reply:
    """DELETE .../actions/variables/{name}: 204."""
    ctx.docs = f"{_DOCS}#delete-a-repository-variable"
    repo = ctx.repo()
    del repo.variables[_found(ctx, repo).name]
    return Reply(204)

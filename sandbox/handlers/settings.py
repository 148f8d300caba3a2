"""Topics and custom properties: the organization's schema and a repository's values."""

from __future__ import annotations

from typing import Any

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError, not_found, validation_failed
from sandbox.models import PropertyDefinition
from sandbox.properties import checked_values
from sandbox.repo_settings import normalize_topics

__all__ = [
    "get_property_schema",
    "get_property_values",
    "get_topics",
    "put_topics",
    "set_property_values",
]

_TOPICS_DOCS = "https://docs.github.com/rest/repos/repos#replace-all-repository-topics"
_VALUES_DOCS = (
    "https://docs.github.com/rest/repos/custom-properties"
    "#create-or-update-custom-property-values-for-a-repository"
)


def get_topics(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/topics."""
    ctx.docs = "https://docs.github.com/rest/repos/repos#get-all-repository-topics"
    return Reply(200, {"names": list(ctx.repo().topics)})


def put_topics(ctx: Ctx) -> Reply:
    """PUT /repos/{owner}/{repo}/topics ``{names}``: replaces every topic (lower-cased)."""
    ctx.docs = _TOPICS_DOCS
    repo = ctx.repo()
    names = ctx.json_body().get("names")
    topics, problem = normalize_topics(names if isinstance(names, list) else [None])
    if problem:
        raise GitHubError(
            422, "Validation Failed", documentation_url=_TOPICS_DOCS, errors=[problem]
        )
    repo.topics = topics
    repo.updated_at = ctx.state.clock()
    return Reply(200, {"names": list(topics)})


def _definition_json(ctx: Ctx, org: str, d: PropertyDefinition) -> dict[str, Any]:
    """The ``custom-property`` shape (``default_value`` only when there is one)."""
    body: dict[str, Any] = {
        "property_name": d.name,
        "url": f"{ctx.api}/orgs/{org}/properties/schema/{d.name}",
        "source_type": "organization",
        "value_type": d.value_type,
        "required": d.required,
        "description": d.description,
        "allowed_values": d.allowed_values,
        "values_editable_by": d.values_editable_by,
    }
    if d.default_value is not None:
        body["default_value"] = d.default_value
    return body


def get_property_schema(ctx: Ctx) -> Reply:
    """GET /orgs/{org}/properties/schema: needs organization_custom_properties:read."""
    ctx.docs = "https://docs.github.com/rest/orgs/custom-properties#get-all-custom-properties-for-an-organization"
    login = ctx.params["org"]
    assert ctx.installation is not None
    if ctx.installation.account.login.lower() != login.lower():
        raise not_found(ctx.docs)
    ctx.authorize()
    org = ctx.state.org(login)
    return Reply(
        200, [_definition_json(ctx, org.account.login, d) for d in org.properties.values()]
    )


def get_property_values(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/properties/values: every property that has a value."""
    ctx.docs = "https://docs.github.com/rest/repos/custom-properties#get-all-custom-property-values-for-a-repository"
    repo = ctx.repo()
    values = [{"property_name": k, "value": v} for k, v in repo.custom_properties.items()]
    return Reply(200, values)


def set_property_values(ctx: Ctx) -> Reply:
    """PATCH .../properties/values ``{properties: [{property_name, value}]}``: 204; null unsets.

    Every name must be in the organization's schema and every value allowed, else 422
    and nothing changes.
    """
    ctx.docs = _VALUES_DOCS
    repo = ctx.repo()
    items = ctx.json_body().get("properties") or []
    pairs = [(i.get("property_name"), i.get("value")) for i in items if isinstance(i, dict)]
    try:
        values = checked_values(ctx.state.org(repo.owner.login), pairs)
    except ValueError as exc:
        raise validation_failed(
            "Validation Failed",
            resource="CustomPropertyValue",
            field="properties",
            code="invalid",
            detail=str(exc),
            documentation_url=_VALUES_DOCS,
        ) from exc
    for name, value in values.items():
        if value is None:
            repo.custom_properties.pop(name, None)
        else:
            repo.custom_properties[name] = value
    return Reply(204)

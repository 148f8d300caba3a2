"""What GitHub has, in the shape a project declares it, and whether the two agree.

Pure functions, no requests. Comparisons are GitHub's own: topics ignore order and
case, roles have two spellings (``write`` is ``push``), ``None`` and ``""`` are the same
homepage or description, a ruleset agrees when it holds every field provisioner sets
(GitHub's own additions such as ``id``, ``source`` or ``_links`` are ignored, lists are
compared without order). A field GitHub does not return cannot be compared and is
taken as agreeing: reporting it would restore it on every check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.provisioning.settings.apply import ruleset_body
from shared.provisioning.settings.entries import DesiredSetting, repository_fields

__all__ = [
    "covers",
    "environment_shape",
    "field_shape",
    "fields_agree",
    "properties_agree",
    "properties_shape",
    "protection_shape",
    "role",
    "same_text",
    "same_topics",
]

_ROLE_SPELLINGS = {"read": "pull", "write": "push"}
"""``role_name`` and invitation ``permissions`` spell two roles differently."""


def role(value: str | None) -> str | None:
    """A team's, collaborator's or invitation's role as declared (``pull`` ... ``admin``)."""
    if not value:
        return None
    return _ROLE_SPELLINGS.get(value, value)


def same_text(declared: str | None, actual: Any) -> bool:
    """A homepage or description: GitHub answers ``None`` for an empty one."""
    return (declared or "") == (actual or "")


def same_topics(declared: Sequence[str], actual: Sequence[str]) -> bool:
    """GitHub lower-cases topics and keeps them in any order."""
    return sorted({t.lower() for t in declared}) == sorted({t.lower() for t in actual})


def field_shape(entry: DesiredSetting, repo_json: Mapping[str, Any]) -> Any:
    """A repository-field entry as ``repo_json`` has it (``{"wiki": True}`` for features)."""
    fields = repository_fields({entry.key: entry})
    if isinstance(entry.value, Mapping):
        # repository_fields names the declared keys in their order: one GitHub field each
        return {key: repo_json.get(f) for key, f in zip(entry.value, fields, strict=True)}
    (field,) = fields
    return repo_json.get(field)


def fields_agree(entry: DesiredSetting, repo_json: Mapping[str, Any]) -> bool:
    """Whether ``repo_json`` has the repository fields ``entry`` declares."""
    for field, wanted in repository_fields({entry.key: entry}).items():
        if field not in repo_json:
            continue  # not returned (not readable with this token): not comparable
        actual = repo_json[field]
        if not (same_text(wanted, actual) if field == "homepage" else wanted == actual):
            return False
    return True


def properties_shape(declared: Mapping[str, Any], actual: Mapping[str, Any]) -> dict[str, Any]:
    """GitHub's value of each declared custom property (``None`` when unset); names are
    matched without case, as GitHub's schema does."""
    by_name = {name.lower(): value for name, value in actual.items()}
    return {name: by_name.get(name.lower()) for name in declared}


def _property_value(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def properties_agree(declared: Mapping[str, Any], shape: Mapping[str, Any]) -> bool:
    """Declared values only; a multi-select's values in any order."""
    return all(_property_value(v) == _property_value(shape.get(k)) for k, v in declared.items())


def environment_shape(environment: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An environment as declared (``{"wait_timer": 5}``): the wait timer is a protection
    rule, absent when zero."""
    if environment is None:
        return None
    rules = environment.get("protection_rules") or []
    timer = next((r.get("wait_timer") for r in rules if r.get("type") == "wait_timer"), None)
    return {"wait_timer": int(timer or 0)}


def covers(declared: Any, actual: Any) -> bool:
    """Whether ``actual`` holds everything of ``declared``: extra keys in objects are
    GitHub's own, lists must match one for one in any order, an empty list may be absent."""
    if isinstance(declared, Mapping):
        return isinstance(actual, Mapping) and all(
            covers(value, actual.get(key)) for key, value in declared.items()
        )
    if isinstance(declared, list):
        if actual is None:
            return not declared
        if not isinstance(actual, list) or len(actual) != len(declared):
            return False
        left = list(actual)
        for item in declared:
            match = next((i for i, candidate in enumerate(left) if covers(item, candidate)), None)
            if match is None:
                return False
            del left[match]
        return True
    return isinstance(declared, bool) == isinstance(actual, bool) and declared == actual


def protection_shape(ruleset: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A ruleset read back as the ``protection`` it would be, beside ``body`` (the one
    provisioner sets). What that shape cannot say (enforcement turned off, another name,
    a rule added, a bypass actor removed) goes under ``ruleset``, as GitHub has it."""
    rules = {str(r.get("type")): r.get("parameters") or {} for r in ruleset.get("rules") or []}
    review = rules.get("pull_request", {})
    checks = rules.get("required_status_checks", {}).get("required_status_checks") or []
    shape: dict[str, Any] = {
        "required_approvals": review.get("required_approving_review_count", 0),
        "code_owner_review": review.get("require_code_owner_review", False),
        "dismiss_stale_reviews": review.get("dismiss_stale_reviews_on_push", False),
        "status_checks": [str(c.get("context")) for c in checks],
        "linear_history": "required_linear_history" in rules,
        "block_force_push": "non_fast_forward" in rules,
    }
    unsaid = {
        key: ruleset.get(key)
        for key, value in body.items()
        if key != "rules" and not covers(value, ruleset.get(key))
    }
    if not covers(ruleset_body(shape, None)["rules"], ruleset.get("rules")):
        unsaid["rules"] = ruleset.get("rules")
    if unsaid:
        shape["ruleset"] = unsaid
    return shape

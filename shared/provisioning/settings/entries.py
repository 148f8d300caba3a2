"""A project's settings as entries: one per thing GitHub keeps (``topics``, ``teams.platform``).

Each entry has a canonical value and its digest; the worker saves the digest of
what it applied, so a re-run makes no request for an entry whose digest matches.
Repository fields (visibility, homepage, features, merge) and custom properties
travel in the create request; the rest cost one request each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.provisioning.settings.spec import RepositorySettings

__all__ = [
    "CREATE_BODY_KINDS",
    "REPOSITORY_FIELD_KINDS",
    "RULESET_NAME",
    "STEP_ORDER",
    "DesiredSetting",
    "create_body_fields",
    "desired_settings",
    "repository_fields",
]

RULESET_NAME = "provisioner: default branch"
REPOSITORY_FIELD_KINDS = ("visibility", "homepage", "features", "merge")
CREATE_BODY_KINDS = frozenset({*REPOSITORY_FIELD_KINDS, "custom_properties"})
"""What ``POST /orgs/{org}/repos`` carries: applied by the create request itself."""
STEP_ORDER = (
    "topics",
    "teams",
    "collaborators",
    "variables",
    "environments",
    "custom_properties",
    "protection",
)
"""The order of the one-request steps; protection comes last (its rules may block pushes)."""
_FEATURE_FIELDS = {"issues": "has_issues", "wiki": "has_wiki", "projects": "has_projects"}
_MERGE_FIELDS = {
    "merge_commit": "allow_merge_commit",
    "squash": "allow_squash_merge",
    "rebase": "allow_rebase_merge",
    "auto_merge": "allow_auto_merge",
    "delete_branch_on_merge": "delete_branch_on_merge",
}


@dataclass(frozen=True)
class DesiredSetting:
    """One setting as it must be on GitHub."""

    key: str
    """``topics``, ``teams.platform``, ``variables.PYTHON_VERSION``..."""
    kind: str
    name: str | None
    value: Any
    """Canonical JSON value (variable values included: they are not secret)."""

    @property
    def digest(self) -> str:
        """SHA-256 of the key and value: equal digests, nothing to do."""
        text = json.dumps({"key": self.key, "value": self.value}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _entry(kind: str, value: Any, name: str | None = None) -> DesiredSetting:
    key = kind if name is None else f"{kind}.{name}"
    return DesiredSetting(key=key, kind=kind, name=name, value=value)


def desired_settings(asked: RepositorySettings | Mapping[str, Any]) -> dict[str, DesiredSetting]:
    """Every entry ``asked`` makes, keyed by its ``key``, in the order they are applied."""
    settings = (
        asked if isinstance(asked, RepositorySettings) else RepositorySettings.model_validate(asked)
    )
    data = settings.asked()
    entries: list[DesiredSetting] = []
    if "template" in data:
        entries.append(_entry("template", data["template"]))
    entries.extend(_entry(kind, data[kind]) for kind in REPOSITORY_FIELD_KINDS if kind in data)
    for kind in STEP_ORDER:
        value = data.get(kind)
        if value is None:
            continue
        if kind in ("teams", "collaborators", "variables", "environments"):
            for name, item in value.items():
                name = name.upper() if kind == "variables" else name
                entries.append(_entry(kind, item, name))
        else:
            entries.append(_entry(kind, value))
    return {e.key: e for e in entries}


def repository_fields(entries: Mapping[str, DesiredSetting]) -> dict[str, Any]:
    """The repository fields of ``entries`` as GitHub names them (create or PATCH body)."""
    body: dict[str, Any] = {}
    for kind in REPOSITORY_FIELD_KINDS:
        entry = entries.get(kind)
        if entry is None:
            continue
        if kind == "visibility":
            body["visibility"] = entry.value
        elif kind == "homepage":
            body["homepage"] = entry.value
        else:
            names = _FEATURE_FIELDS if kind == "features" else _MERGE_FIELDS
            body.update({names[k]: v for k, v in entry.value.items()})
    return body


def create_body_fields(entries: Mapping[str, DesiredSetting]) -> dict[str, Any]:
    """What the create request carries besides name and description."""
    body = repository_fields(entries)
    properties = entries.get("custom_properties")
    if properties is not None:
        body["custom_properties"] = dict(properties.value)
    return body

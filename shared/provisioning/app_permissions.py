"""Which GitHub App permission each feature needs: the README's table and ``doctor``'s check.

GitHub grants permissions per installation; a request the installation's token
lacks the permission for answers 403 "Resource not accessible by integration"
(with ``x-accepted-github-permissions`` naming what would do). ``metadata: read``
comes with every installation and is not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FEATURES", "LEVELS", "Feature", "missing_permissions", "needed_permissions"]

LEVELS: dict[str, int] = {"read": 1, "write": 2, "admin": 3}


@dataclass(frozen=True)
class Feature:
    """One thing provisioner does on GitHub and the permissions it needs."""

    key: str
    """``base`` for what every project needs, else the ``repository`` setting's key."""
    what: str
    needs: tuple[tuple[str, str], ...]
    """``(permission, least level)`` pairs, as GitHub names them."""


FEATURES: tuple[Feature, ...] = (
    Feature(
        "base",
        "create the repository, commit .project.yaml, set Actions secrets, agent tokens",
        (("administration", "write"), ("contents", "write"), ("secrets", "write")),
    ),
    Feature(
        "visibility, homepage, features, merge",
        "repository fields (sent with the create request; a PATCH on adoption)",
        (("administration", "write"),),
    ),
    Feature(
        "template",
        "create from a template repository (the App must be installed on the template's owner)",
        (("administration", "write"), ("contents", "read")),
    ),
    Feature("topics", "replace the repository's topics", (("administration", "write"),)),
    Feature(
        "teams",
        "grant a team access to the repository",
        (("members", "read"), ("administration", "write")),
    ),
    Feature(
        "collaborators",
        "add a collaborator (outside collaborators get an invitation)",
        (("administration", "write"),),
    ),
    Feature("variables", "set Actions variables", (("actions_variables", "write"),)),
    Feature(
        "protection",
        "the default-branch ruleset 'provisioner: default branch'",
        (("administration", "write"),),
    ),
    Feature("environments", "create deployment environments", (("administration", "write"),)),
    Feature(
        "custom_properties",
        "set the repository's custom property values",
        (("repository_custom_properties", "write"),),
    ),
)


def needed_permissions(features: Iterable[str]) -> dict[str, str]:
    """The least permission set covering ``features`` (keys of :data:`FEATURES`), plus base."""
    wanted = {"base", *features}
    needed: dict[str, str] = {}
    for feature in FEATURES:
        if not wanted & {part.strip() for part in feature.key.split(",")}:
            continue
        for name, level in feature.needs:
            if LEVELS[level] > LEVELS.get(needed.get(name, ""), 0):
                needed[name] = level
    return needed


def missing_permissions(granted: dict[str, str], needed: dict[str, str]) -> dict[str, str]:
    """What of ``needed`` the installation's ``granted`` permissions lack."""
    return {
        name: level
        for name, level in needed.items()
        if LEVELS.get(granted.get(name, ""), 0) < LEVELS[level]
    }

"""The App permissions each operation needs (GitHub's "Permissions required for GitHub Apps").

``metadata: read`` is every installation's and is not listed. A token without a
needed permission answers 403 "Resource not accessible by integration" with
``x-accepted-github-permissions`` naming what would have worked.
"""

from __future__ import annotations

__all__ = ["REQUIRED", "Need", "accepted_header", "has", "missing"]

Need = tuple[str, str]
"""A permission name and the least level (read, write, admin) that satisfies it."""

_LEVELS = {"read": 1, "write": 2, "admin": 3}
_ADMIN_READ: tuple[Need, ...] = (("administration", "read"),)
_ADMIN_WRITE: tuple[Need, ...] = (("administration", "write"),)
_TEAM_WRITE: tuple[Need, ...] = (("members", "read"), ("administration", "write"))

REQUIRED: dict[str, tuple[Need, ...]] = {
    "repos/create-in-org": _ADMIN_WRITE,
    "repos/update": _ADMIN_WRITE,
    "repos/delete": _ADMIN_WRITE,
    "repos/create-using-template": (("administration", "write"), ("contents", "read")),
    "repos/replace-all-topics": _ADMIN_WRITE,
    "repos/get-content": (("contents", "read"),),
    "repos/create-or-update-file-contents": (("contents", "write"),),
    "repos/delete-file": (("contents", "write"),),
    "actions/get-repo-public-key": (("secrets", "read"),),
    "actions/list-repo-secrets": (("secrets", "read"),),
    "actions/get-repo-secret": (("secrets", "read"),),
    "actions/create-or-update-repo-secret": (("secrets", "write"),),
    "actions/delete-repo-secret": (("secrets", "write"),),
    "actions/list-repo-variables": (("actions_variables", "read"),),
    "actions/get-repo-variable": (("actions_variables", "read"),),
    "actions/create-repo-variable": (("actions_variables", "write"),),
    "actions/update-repo-variable": (("actions_variables", "write"),),
    "actions/delete-repo-variable": (("actions_variables", "write"),),
    "teams/get-by-name": (("members", "read"),),
    "teams/check-permissions-for-repo-in-org": (("members", "read"),),
    "teams/add-or-update-repo-permissions-in-org": _TEAM_WRITE,
    "teams/remove-repo-in-org": _TEAM_WRITE,
    "repos/list-teams": _ADMIN_READ,
    "repos/add-collaborator": _ADMIN_WRITE,
    "repos/remove-collaborator": _ADMIN_WRITE,
    "repos/list-invitations": _ADMIN_READ,
    "repos/update-invitation": _ADMIN_WRITE,
    "repos/delete-invitation": _ADMIN_WRITE,
    "repos/create-repo-ruleset": _ADMIN_WRITE,
    "repos/update-repo-ruleset": _ADMIN_WRITE,
    "repos/delete-repo-ruleset": _ADMIN_WRITE,
    "repos/get-branch-protection": _ADMIN_READ,
    "repos/update-branch-protection": _ADMIN_WRITE,
    "repos/delete-branch-protection": _ADMIN_WRITE,
    "repos/get-environment": (("actions", "read"),),
    "repos/create-or-update-environment": _ADMIN_WRITE,
    "repos/delete-an-environment": _ADMIN_WRITE,
    "orgs/custom-properties-for-repos-get-organization-definitions": (
        ("organization_custom_properties", "read"),
    ),
    "repos/custom-properties-for-repos-create-or-update-repository-values": (
        ("repository_custom_properties", "write"),
    ),
}


def has(granted: dict[str, str], name: str, level: str) -> bool:
    """Whether ``granted`` includes ``name`` at ``level`` or above."""
    return _LEVELS.get(granted.get(name, ""), 0) >= _LEVELS[level]


def missing(granted: dict[str, str], operation: str) -> tuple[Need, ...]:
    """The needs of ``operation`` that ``granted`` lacks (empty: allowed)."""
    return tuple(n for n in REQUIRED.get(operation, ()) if not has(granted, *n))


def accepted_header(needs: tuple[Need, ...]) -> str:
    """``x-accepted-github-permissions``: one set, its permissions joined by commas."""
    return ",".join(f"{name}={level}" for name, level in needs)

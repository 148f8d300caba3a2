"""Repository roles and the ways GitHub spells them (team/collaborator, invitation, role name)."""

from __future__ import annotations

__all__ = [
    "ROLES",
    "invitation_permission",
    "role_from_invitation",
    "role_name",
    "role_permissions",
]

ROLES = ("pull", "triage", "push", "maintain", "admin")
"""From least to most access."""

_NAMES = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain"}


def role_name(role: str) -> str:
    """``role_name`` / invitation ``permissions``: read, triage, write, maintain, admin."""
    return _NAMES.get(role, role)


def invitation_permission(role: str) -> str:
    """An invitation's ``permissions`` value for ``role``."""
    return role_name(role)


def role_from_invitation(permission: str) -> str:
    """The role for an invitation ``permissions`` value (read → pull, write → push)."""
    for role, name in _NAMES.items():
        if name == permission:
            return role
    return permission


def role_permissions(role: str) -> dict[str, bool]:
    """The ``permissions`` object: every role up to ``role`` is true."""
    rank = ROLES.index(role) if role in ROLES else 0
    return {
        name: ROLES.index(name) <= rank for name in ("admin", "maintain", "push", "triage", "pull")
    }

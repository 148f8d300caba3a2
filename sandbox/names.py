"""GitHub's naming rules for repositories, Actions secrets and variables, and their limits."""

from __future__ import annotations

import re

__all__ = [
    "MAX_REPO_NAME",
    "MAX_VARIABLES",
    "MAX_VARIABLE_BYTES",
    "normalize_repo_name",
    "secret_name_problem",
]

MAX_REPO_NAME = 100
MAX_VARIABLES = 500
MAX_VARIABLE_BYTES = 48 * 1024
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9._-]")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def normalize_repo_name(name: str) -> tuple[str, str | None]:
    """The name GitHub would create, and why it is invalid (None if valid).

    Each character outside ASCII letters, digits, ``.``, ``-``, ``_`` becomes ``-``;
    a trailing ``.git`` is stripped; empty, ``.``, ``..`` and names longer than 100
    characters are invalid.
    """
    changed = _NOT_ALLOWED.sub("-", name)
    if changed.lower().endswith(".git"):
        changed = changed[: -len(".git")]
    if not changed:
        return changed, "name can't be blank"
    if changed in {".", ".."}:
        return changed, "name is invalid"
    if len(changed) > MAX_REPO_NAME:
        return changed, f"name is too long (maximum is {MAX_REPO_NAME} characters)"
    return changed, None


def secret_name_problem(name: str, kind: str = "Secret") -> str | None:
    """Why ``name`` cannot be an Actions secret (or ``kind``: Variable) name, or None."""
    if not _SECRET_NAME.fullmatch(name):
        if name[:1].isdigit():
            return f"{kind} names must not start with a number."
        return f"{kind} names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_)."  # noqa: E501
    if name.upper().startswith("GITHUB_"):
        return f"{kind} names must not start with GITHUB_."
    return None

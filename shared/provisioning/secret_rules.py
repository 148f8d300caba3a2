"""GitHub's rules for Actions secrets, checked before any request is made."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_SECRETS_PER_REPO",
    "MAX_SECRET_VALUE_BYTES",
    "SecretProblem",
    "check_secrets",
]

MAX_SECRETS_PER_REPO = 100
MAX_SECRET_VALUE_BYTES = 48 * 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SecretProblem:
    """One secret GitHub would refuse: its name (or ``None`` for the set) and why."""

    name: str | None
    message: str


def check_secrets(secrets: Mapping[str, str]) -> list[SecretProblem]:
    """Every reason GitHub would refuse these secrets; empty when they are fine."""
    problems: list[SecretProblem] = []
    if len(secrets) > MAX_SECRETS_PER_REPO:
        problems.append(
            SecretProblem(
                None,
                f"{len(secrets)} secrets; GitHub allows at most "
                f"{MAX_SECRETS_PER_REPO} per repository",
            )
        )
    seen: dict[str, str] = {}
    for name, value in secrets.items():
        if not _NAME.fullmatch(name):
            problems.append(
                SecretProblem(
                    name,
                    "secret names may contain only letters, digits and _ "
                    "and must not start with a digit",
                )
            )
        elif name.upper().startswith("GITHUB_"):
            problems.append(SecretProblem(name, "secret names must not start with GITHUB_"))
        elif name.upper() in seen:
            problems.append(
                SecretProblem(name, f"same name as {seen[name.upper()]!r} (names ignore case)")
            )
        seen.setdefault(name.upper(), name)
        if not isinstance(value, str):
            problems.append(SecretProblem(name, "secret values must be strings"))
        elif len(value.encode("utf-8")) > MAX_SECRET_VALUE_BYTES:
            problems.append(
                SecretProblem(name, f"value is over {MAX_SECRET_VALUE_BYTES // 1024} KB")
            )
    return problems

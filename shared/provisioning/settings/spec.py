"""The ``repository`` object of a create request, checked against GitHub's rules.

Every key is optional. A value GitHub would refuse for its form (a topic with
capitals, a variable named ``GITHUB_X``, a wait timer over 30 days) is refused
here with a 422 naming its field (``repository.topics[2]``), before anything is
stored. What only GitHub can know (does team ``platform`` exist?) is refused by
GitHub later and ends the project with ``setting_rejected``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from shared.provisioning.secret_rules import MAX_SECRET_VALUE_BYTES

__all__ = [
    "MAX_TOPICS",
    "MAX_VARIABLES",
    "Environment",
    "Features",
    "Merge",
    "Permission",
    "Protection",
    "RepositorySettings",
]

MAX_TOPICS = 20
MAX_VARIABLES = 500
MAX_GRANTS = 100
"""Teams or collaborators one project may name (ours, to keep one job's work bounded)."""
MAX_ENVIRONMENTS = 50
MAX_WAIT_TIMER_MIN = 43_200

Permission = Literal["pull", "triage", "push", "maintain", "admin"]


def _matching(pattern: str, rule: str) -> AfterValidator:
    """A check that the value fully matches ``pattern``; ``rule`` says the rule in words."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r}: {rule}")
        return value

    return AfterValidator(check)


TeamSlug = Annotated[
    str,
    _matching(r"[a-z0-9][a-z0-9_-]{0,99}", "a team slug is lower-case letters, digits, - and _"),
]
Login = Annotated[
    str,
    _matching(
        r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}",
        "not a GitHub login (letters, digits and single hyphens, at most 39 characters)",
    ),
]
VariableName = Annotated[
    str,
    _matching(
        r"(?![Gg][Ii][Tt][Hh][Uu][Bb]_)[A-Za-z_][A-Za-z0-9_]{0,254}",
        "variable names are letters, digits and _, not starting with a digit or GITHUB_",
    ),
]
EnvironmentName = Annotated[
    str,
    _matching(
        r"[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,253}[A-Za-z0-9._-])?",
        "environment names are letters, digits, spaces, '.', '-' and '_' (at most 255)",
    ),
]
PropertyName = Annotated[
    str, _matching(r"[A-Za-z0-9_$#-]{1,75}", "property names are letters, digits, _ - $ #")
]
Topic = Annotated[
    str,
    _matching(
        r"[a-z0-9][a-z0-9-]{0,49}",
        "topics are lower-case letters, digits and hyphens, at most 50 characters",
    ),
]
_TEMPLATE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Features(_Strict):
    """Repository features; a key left out keeps GitHub's default."""

    issues: bool | None = None
    wiki: bool | None = None
    projects: bool | None = None
    discussions: bool | None = Field(
        default=None,
        description="Not settable: GitHub's REST API has no field for it on org repositories.",
    )

    @field_validator("discussions")
    @classmethod
    def _no_discussions(cls, value: bool | None) -> bool | None:
        if value is not None:
            raise ValueError(
                "GitHub's REST API cannot set discussions on organization repositories "
                "(neither on create nor on update): turn them on in GitHub's settings page"
            )
        return value


class Merge(_Strict):
    """Pull request merge options."""

    merge_commit: bool | None = None
    squash: bool | None = None
    rebase: bool | None = None
    auto_merge: bool | None = None
    delete_branch_on_merge: bool | None = None


class Protection(_Strict):
    """The default branch's ruleset ``provisioner: default branch``."""

    required_approvals: int = Field(default=0, ge=0, le=10)
    code_owner_review: bool = False
    dismiss_stale_reviews: bool = False
    status_checks: list[Annotated[str, StringConstraints(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=50
    )
    linear_history: bool = False
    block_force_push: bool = True

    @field_validator("status_checks")
    @classmethod
    def _unique_checks(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("status checks must not repeat")
        return value


class Environment(_Strict):
    """A deployment environment."""

    wait_timer: int = Field(default=0, ge=0, le=MAX_WAIT_TIMER_MIN, description="Minutes.")


class RepositorySettings(_Strict):
    """Everything a project may ask of its repository; every key optional."""

    visibility: Literal["private", "internal", "public"] | None = Field(
        default=None, description="`private` unless asked; `internal` needs an enterprise org."
    )
    homepage: Annotated[str, StringConstraints(max_length=2048)] | None = None
    topics: list[Topic] | None = Field(default=None, max_length=MAX_TOPICS)
    features: Features | None = None
    merge: Merge | None = None
    template: str | None = Field(default=None, description="`owner/repo` of a template.")
    teams: dict[TeamSlug, Permission] | None = Field(default=None, max_length=MAX_GRANTS)
    collaborators: dict[Login, Permission] | None = Field(default=None, max_length=MAX_GRANTS)
    variables: dict[VariableName, str] | None = Field(default=None, max_length=MAX_VARIABLES)
    protection: Protection | None = None
    environments: dict[EnvironmentName, Environment] | None = Field(
        default=None, max_length=MAX_ENVIRONMENTS
    )
    custom_properties: (
        dict[PropertyName, Annotated[str, StringConstraints(max_length=75)] | list[str]] | None
    ) = Field(default=None, max_length=100)

    @field_validator("homepage")
    @classmethod
    def _homepage_url(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not _URL.fullmatch(value):
            raise ValueError("the homepage must be an http:// or https:// URL")
        return value

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("topics must not repeat")
        return value

    @field_validator("template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None and not _TEMPLATE.fullmatch(value):
            raise ValueError("the template is a repository's owner/name")
        return value

    @field_validator("collaborators")
    @classmethod
    def _logins_unique(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len({k.lower() for k in value}) != len(value):
            raise ValueError("the same login twice (logins ignore case)")
        return value

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if len({k.upper() for k in value}) != len(value):
            raise ValueError("the same variable twice (names ignore case)")
        for name, text in value.items():
            if len(text.encode("utf-8")) > MAX_SECRET_VALUE_BYTES:
                raise ValueError(f"{name}: the value is over 48 KB")
        return value

    def asked(self) -> dict[str, Any]:
        """What was asked, as JSON (keys left out stay out): stored and shown back."""
        return self.model_dump(mode="json", exclude_none=True)

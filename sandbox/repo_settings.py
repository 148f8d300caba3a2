"""Repository settings: the fields create and PATCH store, their defaults, topics, visibility."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sandbox.models import SandboxRepository

__all__ = [
    "CREATE_FIELDS",
    "DEFAULTS",
    "MAX_TOPICS",
    "MAX_TOPIC_LENGTH",
    "UPDATE_FIELDS",
    "apply_visibility",
    "normalize_topics",
    "requested_visibility",
    "setting",
]

DEFAULTS: dict[str, Any] = {
    "homepage": None,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "has_downloads": True,
    "has_discussions": False,
    "has_pull_requests": True,
    "pull_request_creation_policy": "all",
    "is_template": False,
    "allow_squash_merge": True,
    "allow_merge_commit": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "delete_branch_on_merge": False,
    "allow_update_branch": False,
    "use_squash_pr_title_as_default": False,
    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
    "squash_merge_commit_message": "COMMIT_MESSAGES",
    "merge_commit_title": "MERGE_MESSAGE",
    "merge_commit_message": "PR_TITLE",
    "web_commit_signoff_required": False,
    "allow_forking": None,  # None: allowed exactly when public
    "security_and_analysis": None,
}
"""Every stored setting and GitHub's value for a repository that never set it."""

CREATE_FIELDS = (
    "homepage",
    "has_issues",
    "has_projects",
    "has_wiki",
    "has_downloads",
    "is_template",
    "allow_squash_merge",
    "allow_merge_commit",
    "allow_rebase_merge",
    "allow_auto_merge",
    "delete_branch_on_merge",
    "use_squash_pr_title_as_default",
    "squash_merge_commit_title",
    "squash_merge_commit_message",
    "merge_commit_title",
    "merge_commit_message",
)
"""Settings ``POST /orgs/{org}/repos`` stores (others, like ``has_discussions``, it ignores)."""

UPDATE_FIELDS = (
    *(f for f in CREATE_FIELDS if f != "has_downloads"),
    "has_pull_requests",
    "pull_request_creation_policy",
    "allow_update_branch",
    "allow_forking",
    "web_commit_signoff_required",
    "security_and_analysis",
)
"""Settings ``PATCH /repos/{owner}/{repo}`` stores beside name, description, visibility."""

MAX_TOPICS = 20
MAX_TOPIC_LENGTH = 50
_TOPIC = re.compile(r"[a-z0-9][a-z0-9-]*")
_TOPIC_RULE = (
    "Topics must start with a lowercase letter or number, consist of 50 characters or "
    "less, and can include hyphens."
)


def setting(repo: SandboxRepository, name: str) -> Any:
    """The repository's value of setting ``name`` (its default when never set)."""
    if name == "allow_forking" and repo.settings.get(name) is None:
        return not repo.private
    return repo.settings.get(name, DEFAULTS[name])


def requested_visibility(body: dict[str, Any]) -> str | None:
    """``public``, ``private`` or ``internal`` as a body asks (``visibility`` wins), or None."""
    visibility = body.get("visibility")
    if visibility in {"public", "private", "internal"}:
        return str(visibility)
    if "private" in body:
        return "private" if body["private"] else "public"
    return None


def apply_visibility(repo: SandboxRepository, visibility: str) -> None:
    """Make ``repo`` public, private or internal (internal repositories are private)."""
    repo.internal = visibility == "internal"
    repo.private = visibility != "public"


def normalize_topics(names: Iterable[object]) -> tuple[list[str], str | None]:
    """The topics GitHub stores (lower-cased, duplicates dropped), and why they are refused."""
    topics: list[str] = []
    for raw in names:
        if not isinstance(raw, str):
            return topics, _TOPIC_RULE
        name = raw.strip().lower()
        if len(name) > MAX_TOPIC_LENGTH or not _TOPIC.fullmatch(name):
            return topics, f"'{raw}' is not a valid topic. {_TOPIC_RULE}"
        if name not in topics:
            topics.append(name)
    if len(topics) > MAX_TOPICS:
        return topics, f"A repository cannot have more than {MAX_TOPICS} topics."
    return topics, None

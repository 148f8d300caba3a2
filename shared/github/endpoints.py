"""Request paths as endpoint templates, so metrics count ``/repos/{owner}/{repo}`` once."""

from __future__ import annotations

import re

__all__ = ["endpoint_of"]

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^/repos/[^/]+/[^/]+"), "/repos/{owner}/{repo}"),
    (re.compile(r"^/orgs/[^/]+"), "/orgs/{org}"),
    (re.compile(r"^/app/installations/\d+"), "/app/installations/{installation_id}"),
    (re.compile(r"/contents/.*$"), "/contents/{path}"),
    (re.compile(r"/actions/secrets/(?!public-key$)[^/]+$"), "/actions/secrets/{secret_name}"),
    (re.compile(r"/actions/variables/[^/]+$"), "/actions/variables/{name}"),
    (re.compile(r"/teams/[^/]+"), "/teams/{team_slug}"),
    (re.compile(r"/collaborators/[^/]+$"), "/collaborators/{username}"),
    (re.compile(r"/invitations/\d+$"), "/invitations/{invitation_id}"),
    (re.compile(r"/rulesets/\d+$"), "/rulesets/{ruleset_id}"),
    (re.compile(r"/environments/[^/]+$"), "/environments/{environment_name}"),
    (re.compile(r"/branches/[^/]+"), "/branches/{branch}"),
)


def endpoint_of(path: str) -> str:
    """The template of ``path``: ``/repos/acme/bot/actions/secrets/API_KEY`` becomes
    ``/repos/{owner}/{repo}/actions/secrets/{secret_name}``."""
    path = path.split("?", 1)[0]
    for pattern, template in _RULES:
        path = pattern.sub(template, path, count=1)
    return path

"""Endpoint handlers, one module per area of the REST API, and the table routing to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError
from sandbox.handlers import apps, contents, meta, repos, secrets

__all__ = ["HANDLERS", "UNIMPLEMENTED", "UNIMPLEMENTED_HEADER", "Handler"]

UNIMPLEMENTED_HEADER = "x-sandbox-unimplemented"


@dataclass(frozen=True)
class Handler:
    """How to serve one operation: ``auth`` is ``"app"`` (App JWT) or ``"installation"``."""

    run: Callable[[Ctx], Reply]
    auth: str


HANDLERS: dict[str, Handler] = {
    "apps/get-authenticated": Handler(apps.get_app, "app"),
    "apps/list-installations": Handler(apps.list_installations, "app"),
    "apps/get-org-installation": Handler(apps.get_org_installation, "app"),
    "apps/get-repo-installation": Handler(apps.get_repo_installation, "app"),
    "apps/create-installation-access-token": Handler(apps.create_access_token, "app"),
    "repos/create-in-org": Handler(repos.create_in_org, "installation"),
    "repos/create-for-authenticated-user": Handler(repos.create_for_user, "installation"),
    "repos/get": Handler(repos.get_repo, "installation"),
    "repos/delete": Handler(repos.delete_repo, "installation"),
    "repos/get-content": Handler(contents.get_content, "installation"),
    "repos/create-or-update-file-contents": Handler(contents.put_content, "installation"),
    "actions/get-repo-public-key": Handler(secrets.get_public_key, "installation"),
    "actions/create-or-update-repo-secret": Handler(secrets.put_secret, "installation"),
    "actions/list-repo-secrets": Handler(secrets.list_secrets, "installation"),
    "rate-limit/get": Handler(meta.get_rate_limit, "installation"),
}


def _unimplemented(ctx: Ctx) -> Reply:
    """An operation of the description the sandbox does not simulate: GitHub's 404."""
    raise GitHubError(404, "Not Found", headers={UNIMPLEMENTED_HEADER: ctx.operation})


UNIMPLEMENTED = Handler(_unimplemented, "installation")
"""What answers an operation of the description that has no handler (a hinted 404)."""

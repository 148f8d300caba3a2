"""Repository tokens for agents: a fresh installation token narrowed to one repository.

The App's private key stays in this process; the agent gets a token that can
reach only its project's repository, with only the permissions configured
(``AGENT_TOKEN_PERMISSIONS``), for at most an hour.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Action, Principal, authorize
from shared.errors import RequestRejected
from shared.github.client import GitHubClient
from shared.github.errors import GitHubError
from shared.github.token_cache import InstallationToken
from shared.projects import admission, repository
from shared.projects.models import ProjectStatus
from shared.projects.schemas import RepoTokenOut
from shared.projects.service import visible_project
from shared.rate_limits import DEFAULT_LIMITS, AbuseLimits, RateLimiter

__all__ = ["RepoTokenMinter", "mint_repo_token"]

_log = structlog.get_logger(__name__)


class RepoTokenMinter:
    """Mints repository-scoped tokens through the App's client (which its owner closes)."""

    def __init__(self, github: GitHubClient, permissions: Mapping[str, str]) -> None:
        self.github = github
        self.permissions = dict(permissions)

    async def mint(self, repository_id: int) -> InstallationToken:
        """A token for the repository GitHub numbers ``repository_id`` only (by id, not
        name: a repository renamed or re-created under the name is not reached)."""
        return await self.github.mint_token(
            repository_ids=[repository_id], permissions=self.permissions
        )


async def mint_repo_token(
    session: AsyncSession,
    minter: RepoTokenMinter | None,
    principal: Principal,
    project_id: uuid.UUID,
    *,
    limiter: RateLimiter | None = None,
    limits: AbuseLimits = DEFAULT_LIMITS,
) -> RepoTokenOut:
    """A fresh token for the project's repository only (event ``token_minted``).

    409 until the project is ready (with its status, or its last error when it
    failed); 503 when no GitHub App is configured; GitHub's refusal is a 502; 429 beyond
    ``limits.token_mints_per_project_per_minute``.
    """
    authorize(principal, Action.TOKEN)
    project = await visible_project(session, principal, project_id)
    if project.status == ProjectStatus.REPO_FAILED:
        raise RequestRejected(
            409,
            "repo_failed",
            f"the project failed: {project.last_error_code}: {project.last_error_message}",
        )
    if (
        project.status != ProjectStatus.READY
        or not project.repo_full_name
        or project.repo_github_id is None
    ):
        raise RequestRejected(409, "not_ready", f"the project is {project.status}, not ready yet")
    if minter is None:
        raise RequestRejected(
            503, "github_not_configured", "no GitHub App is configured on this API"
        )
    await admission.admit_mint(limiter, limits, project.id)
    try:
        token = await minter.mint(project.repo_github_id)
    except GitHubError as exc:
        _log.warning("repo_token.failed", code=exc.code, error=exc.message)
        headers = {"Retry-After": str(int(exc.retry_after or 5))} if exc.transient else None
        raise RequestRejected(
            503 if exc.transient else 502,
            exc.code,
            f"GitHub refused the token: {exc.message}",
            headers=headers,
        ) from None
    await repository.add_event(
        session,
        project,
        "token_minted",
        {
            "by": principal.subject,
            "expires_at": token.expires_at.isoformat(),
            "permissions": dict(token.permissions),
        },
    )
    _log.info("repo_token.minted", repo=project.repo_full_name, by=principal.subject)
    return RepoTokenOut(
        token=token.token,
        expires_at=token.expires_at,
        repository=project.repo_full_name,
        permissions=dict(token.permissions),
    )

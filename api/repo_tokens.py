"""Repository tokens for agents: a fresh installation token narrowed to one repository.

The App's private key stays in this process; the agent gets a token that can
reach only its project's repository, with only the permissions configured
here (``AGENT_TOKEN_PERMISSIONS``, JSON), for at most an hour.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import structlog
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigError
from shared.github.client import GitHubClient
from shared.github.token_cache import InstallationToken
from shared.settings import GitHubSettings, load_github_settings

__all__ = ["DEFAULT_AGENT_PERMISSIONS", "AgentTokenSettings", "RepoTokenMinter", "build_minter"]

DEFAULT_AGENT_PERMISSIONS: Mapping[str, str] = {
    "contents": "write",
    "pull_requests": "write",
    "metadata": "read",
}
_log = structlog.get_logger(__name__)


class AgentTokenSettings(BaseSettings):
    """What an agent's repository token may do."""

    model_config = SettingsConfigDict(env_prefix="AGENT_TOKEN_", extra="ignore", frozen=True)

    permissions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AGENT_PERMISSIONS))

    @field_validator("permissions")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in ("read", "write", "admin")}
        if bad or not value:
            raise ValueError(f"permissions must map names to read/write/admin: {json.dumps(bad)}")
        return value


class RepoTokenMinter:
    """Mints repository-scoped tokens through the App's client."""

    def __init__(self, github: GitHubClient, permissions: Mapping[str, str]) -> None:
        self.github = github
        self.permissions = dict(permissions)

    async def mint(self, repository_name: str) -> InstallationToken:
        """A token for ``repository_name`` (in the App's organization) only."""
        return await self.github.mint_token(
            repositories=[repository_name], permissions=self.permissions
        )

    async def aclose(self) -> None:
        """Close the GitHub connection pool."""
        await self.github.aclose()


def build_minter() -> RepoTokenMinter | None:
    """The minter from the environment; ``None`` when no GitHub App is configured at all.

    A configuration that is there but broken (unreadable key, bad permissions) is a
    :class:`ConfigError` at start, not a failure on the first token.
    """
    if not GitHubSettings().app_id:
        _log.warning("repo_tokens.disabled", reason="GITHUB_APP_ID is not set")
        return None
    settings = load_github_settings()
    try:
        permissions = AgentTokenSettings().permissions
    except ValueError as exc:
        raise ConfigError(f"AGENT_TOKEN_PERMISSIONS: {exc}") from None
    return RepoTokenMinter(GitHubClient(settings, write_interval_s=0), permissions)

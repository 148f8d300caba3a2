"""All configuration, read from the environment in one place.

Each component asks only for the part it needs: the GitHub client for
:class:`GitHubSettings`, the API and worker for :class:`Settings`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigError

__all__ = ["GitHubSettings", "load_github_settings"]


class GitHubSettings(BaseSettings):
    """How to reach GitHub (or GitHub Enterprise Server) as a GitHub App."""

    model_config = SettingsConfigDict(env_prefix="GITHUB_", extra="ignore", frozen=True)

    api_url: str = Field(default="https://api.github.com", description="REST API base URL.")
    app_id: str | None = Field(default=None, description="The App's id (or client id).")
    app_private_key: SecretStr | None = Field(default=None, description="The App's key, PEM.")
    app_private_key_path: Path | None = Field(default=None, description="File with the PEM key.")
    org: str | None = Field(default=None, description="Organization to work in (optional).")
    user_agent: str = "provisioner/0.1"
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("org", "app_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def require_app_id(self) -> str:
        """The App id, or a :class:`ConfigError` naming the variable to set."""
        if not self.app_id:
            raise ConfigError("GITHUB_APP_ID is not set: give the GitHub App's id")
        return self.app_id

    @cached_property
    def private_key(self) -> RSAPrivateKey:
        """The App's private key, parsed once (parsing costs ~40 ms, signing ~1 ms)."""
        return load_private_key(self)


def load_private_key(settings: GitHubSettings) -> RSAPrivateKey:
    """Read and parse the App's private key, or raise one readable :class:`ConfigError`."""
    if settings.app_private_key is not None:
        pem = settings.app_private_key.get_secret_value().encode()
        source = "GITHUB_APP_PRIVATE_KEY"
    elif settings.app_private_key_path is not None:
        path = settings.app_private_key_path
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"GITHUB_APP_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}"
            ) from None
        source = f"GITHUB_APP_PRIVATE_KEY_PATH ({path})"
    else:
        raise ConfigError(
            "no GitHub App private key: set GITHUB_APP_PRIVATE_KEY (PEM text) "
            "or GITHUB_APP_PRIVATE_KEY_PATH (a PEM file)"
        )
    try:
        key = serialization.load_pem_private_key(pem.replace(b"\\n", b"\n"), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{source} is not a PEM-encoded RSA private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(f"{source} is not an RSA key (GitHub App keys are RSA)")
    return key


def load_github_settings() -> GitHubSettings:
    """GitHub settings from the environment, checked: the key is loaded now, not on first use."""
    try:
        settings = GitHubSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "GITHUB_" + str(first["loc"][0]).upper() if first["loc"] else "GITHUB_*"
        raise ConfigError(f"{field}: {first['msg']}") from None
    settings.require_app_id()
    _ = settings.private_key
    return settings

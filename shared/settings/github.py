"""The GitHub section: ``GITHUB_*``, and the App key parsed once into a ``GitHubConfig``."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from shared.errors import ConfigError
from shared.github.config import GitHubConfig
from shared.settings.base import section

__all__ = ["GitHubSettings", "load_private_key"]


class GitHubSettings(BaseSettings):
    """How to reach GitHub (or GitHub Enterprise Server) as a GitHub App: ``GITHUB_*``."""

    model_config = section("GITHUB_")

    api_url: str = Field(default="https://api.github.com", description="REST API base URL.")
    app_id: str | None = Field(default=None, description="The App's id (or client id).")
    app_private_key: SecretStr | None = Field(default=None, description="The App's key, PEM.")
    app_private_key_path: Path | None = Field(default=None, description="File with the PEM key.")
    org: str | None = Field(default=None, description="Organization to work in (optional).")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Verifies webhook deliveries (unset: webhooks are refused)."
    )
    user_agent: str = "provisioner/0.1"
    timeout_s: float = Field(default=10.0, gt=0)
    writes_per_minute: int = Field(
        default=80, ge=1, description="Content-creating requests per minute, fleet-wide."
    )
    writes_per_hour: int = Field(
        default=500, ge=1, description="Content-creating requests per hour, fleet-wide."
    )
    max_in_flight: int = Field(
        default=10, ge=1, le=100, description="Requests in flight at once, fleet-wide."
    )
    primary_floor: int = Field(
        default=100, ge=0, description="Below this many primary requests left, pause to reset."
    )
    budget_wait_s: float = Field(
        default=3.0, ge=0, description="Longer budget waits defer the job instead of sleeping."
    )

    @field_validator("api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("org", "app_id")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def configured(self) -> bool:
        """Whether an App is configured at all (the API can run without one)."""
        return self.app_id is not None

    @cached_property
    def app(self) -> GitHubConfig:
        """The client's configuration, the key parsed once; a :class:`ConfigError` if unusable."""
        if not self.app_id:
            raise ConfigError("GITHUB_APP_ID is not set: give the GitHub App's id")
        return GitHubConfig(
            app_id=self.app_id,
            private_key=load_private_key(self),
            api_url=self.api_url,
            org=self.org,
            user_agent=self.user_agent,
            timeout_s=self.timeout_s,
        )


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

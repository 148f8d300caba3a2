"""All configuration: one :class:`Settings`, read from the environment once, at start.

Each section is read with its own prefix, so the variables keep their
documented names (``DATABASE_URL``, ``GITHUB_APP_ID``, ``WORKER_RETRY_FOR_S``...).
:func:`load_settings` validates everything, the App key included, and turns
the first problem into one :class:`~shared.errors.ConfigError` naming the
variable. Nothing else in the project reads the environment; components get
the section they need from the composition root (``cli/``).
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import ConfigError
from shared.github.config import GitHubConfig

__all__ = [
    "DEFAULT_AGENT_PERMISSIONS",
    "AgentSettings",
    "ApiSettings",
    "DatabaseSettings",
    "GitHubSettings",
    "LoggingSettings",
    "RedisSettings",
    "SecretsSettings",
    "Settings",
    "WorkerSettings",
    "load_settings",
    "normalize_database_url",
]

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/provisioner"
DEFAULT_AGENT_PERMISSIONS: Mapping[str, str] = {
    "contents": "write",
    "pull_requests": "write",
    "metadata": "read",
}
SECRETS_KEY_BYTES = 32
_ASYNC_SCHEME = "postgresql+asyncpg://"
_PLAIN_SCHEMES = ("postgresql://", "postgres://")


def normalize_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs become ``postgresql+asyncpg://``."""
    url = url.strip()
    for scheme in _PLAIN_SCHEMES:
        if url.startswith(scheme):
            return _ASYNC_SCHEME + url.removeprefix(scheme)
    return url


def _section(prefix: str = "") -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True, populate_by_name=True)


class DatabaseSettings(BaseSettings):
    """PostgreSQL: ``DATABASE_URL``, ``DB_POOL_SIZE``, ``DB_MAX_OVERFLOW``."""

    model_config = _section()

    url: str = Field(
        default=DEFAULT_DATABASE_URL, validation_alias=AliasChoices("DATABASE_URL"), repr=False
    )
    pool_size: int = Field(
        default=10, ge=1, validation_alias=AliasChoices("DB_POOL_SIZE"), description="Per process."
    )
    max_overflow: int = Field(
        default=0, ge=0, validation_alias=AliasChoices("DB_MAX_OVERFLOW"), description="Under load."
    )

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        url = normalize_database_url(value)
        if not url.startswith(_ASYNC_SCHEME):
            raise ValueError("must be a postgresql:// URL")
        return url


class RedisSettings(BaseSettings):
    """Redis, which carries the jobs: ``REDIS_URL``, ``QUEUE_NAME``, ``QUEUE_*``."""

    model_config = _section()

    url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL"), repr=False
    )
    queue_name: str = Field(
        default="provisioner:queue", min_length=1, validation_alias=AliasChoices("QUEUE_NAME")
    )
    projects_in_flight: int = Field(
        default=4,
        ge=1,
        validation_alias=AliasChoices("QUEUE_PROJECTS_IN_FLIGHT"),
        description="Projects provisioned at once across the fleet, dispatched fairly by owner.",
    )
    dispatch_lease_s: float = Field(
        default=150.0,
        gt=0,
        validation_alias=AliasChoices("QUEUE_DISPATCH_LEASE_S"),
        description="A dispatched job's slot is freed after this long even if its worker died.",
    )


class GitHubSettings(BaseSettings):
    """How to reach GitHub (or GitHub Enterprise Server) as a GitHub App: ``GITHUB_*``."""

    model_config = _section("GITHUB_")

    api_url: str = Field(default="https://api.github.com", description="REST API base URL.")
    app_id: str | None = Field(default=None, description="The App's id (or client id).")
    app_private_key: SecretStr | None = Field(default=None, description="The App's key, PEM.")
    app_private_key_path: Path | None = Field(default=None, description="File with the PEM key.")
    org: str | None = Field(default=None, description="Organization to work in (optional).")
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


class SecretsSettings(BaseSettings):
    """The key that encrypts project secrets at rest: ``SECRETS_KEY``, 32 bytes in base64."""

    model_config = _section()

    key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SECRETS_KEY"))

    @field_validator("key")
    @classmethod
    def _thirty_two_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        try:
            key = b64decode(value.get_secret_value().strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None
        if len(key) != SECRETS_KEY_BYTES:
            raise ValueError(f"must be {SECRETS_KEY_BYTES} bytes, got {len(key)}")
        return value


class ApiSettings(BaseSettings):
    """The REST API's process: ``API_HOST``, ``API_PORT``, ``API_WORKERS``; its body limit."""

    model_config = _section("API_")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="Processes (one per core).")
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Request bodies over this are refused (413) while they are read.",
    )


class WorkerSettings(BaseSettings):
    """How hard the worker tries and how fast it reacts: ``WORKER_*``."""

    model_config = _section("WORKER_")

    retry_for_s: float = Field(
        default=6 * 3600.0, gt=0, description="Transient failures are retried this long."
    )
    backoff_base_s: float = Field(default=2.0, gt=0, description="First retry's ceiling.")
    backoff_cap_s: float = Field(default=300.0, gt=0, description="No retry waits longer.")
    job_timeout_s: int = Field(
        default=90, ge=10, description="Also how soon a killed job runs again (+10 s)."
    )
    max_jobs: int = Field(default=10, ge=1)
    poll_delay_s: float = Field(
        default=0.02, gt=0, description="Queue polling; half of it is the mean pickup delay."
    )
    health_check_interval_s: int = Field(default=10, ge=1)
    shutdown_wait_s: int = Field(default=20, ge=0, description="Grace for running jobs.")
    sweep_every_s: int = Field(default=30, ge=5, description="Sweeper period.")
    metrics_port: int = Field(
        default=9200, ge=0, le=65535, description="Serves /metrics (0: not served)."
    )
    sweep_grace_s: float = Field(
        default=60.0, ge=0, description="A row untouched this long whose job is gone is requeued."
    )


class AgentSettings(BaseSettings):
    """What an agent's repository token may do: ``AGENT_TOKEN_PERMISSIONS`` (JSON)."""

    model_config = _section("AGENT_TOKEN_")

    permissions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AGENT_PERMISSIONS))

    @field_validator("permissions")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in ("read", "write", "admin")}
        if bad or not value:
            raise ValueError(f"permissions must map names to read/write/admin: {json.dumps(bad)}")
        return value


class LoggingSettings(BaseSettings):
    """Log output: ``LOG_LEVEL`` and ``LOG_FORMAT`` (``json`` or ``console``)."""

    model_config = _section("LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] = "json"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


_SECTIONS: dict[str, type[BaseSettings]] = {
    "database": DatabaseSettings,
    "redis": RedisSettings,
    "github": GitHubSettings,
    "secrets": SecretsSettings,
    "api": ApiSettings,
    "worker": WorkerSettings,
    "agents": AgentSettings,
    "logging": LoggingSettings,
}


class Settings(BaseModel):
    """Every section of the configuration. Tests build it with the sections they change."""

    model_config = ConfigDict(frozen=True)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    github: GitHubSettings = Field(default_factory=GitHubSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)


def _variable(section: type[BaseSettings], loc: tuple[int | str, ...]) -> str:
    """The environment variable behind a validation error's location."""
    if not loc:
        return str(section.model_config.get("env_prefix", "")) + "*"
    name = str(loc[0])
    field = section.model_fields.get(name)
    if field is None:  # the error names the alias
        return name.upper()
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0]).upper()
    return (str(section.model_config.get("env_prefix", "")) + name).upper()


def load_settings(*, require_github: bool = False, require_secrets_key: bool = False) -> Settings:
    """Read and check every section now; the first problem is a :class:`ConfigError`.

    The App key is parsed here when an App is configured (or ``require_github``),
    so a bad key is one line at start, not a failure on the first job; so is
    ``SECRETS_KEY`` when it is set (or ``require_secrets_key``).
    """
    sections: dict[str, BaseSettings] = {}
    for name, section in _SECTIONS.items():
        try:
            sections[name] = section()
        except ValidationError as exc:
            first = exc.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{_variable(section, first['loc'])}: {message}") from None
    settings = Settings.model_validate(sections)
    if require_github or settings.github.configured:
        _ = settings.github.app
    if require_secrets_key and settings.secrets.key is None:
        raise ConfigError("SECRETS_KEY is not set: give 32 random bytes in base64")
    return settings

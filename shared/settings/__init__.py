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
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings

from shared.errors import ConfigError
from shared.rate_limits import (
    DEFAULT_ACTIVE_PROJECTS_PER_OWNER,
    DEFAULT_CREATES_PER_OWNER_PER_MINUTE,
    DEFAULT_MAX_LONG_POLLS,
    DEFAULT_TOKEN_MINTS_PER_PROJECT_PER_MINUTE,
    AbuseLimits,
)
from shared.settings.base import ASYNC_SCHEME, normalize_database_url, section
from shared.settings.github import GitHubSettings

__all__ = [
    "AGENT_PERMISSIONS_ALLOWED",
    "DEFAULT_AGENT_PERMISSIONS",
    "AgentSettings",
    "ApiSettings",
    "DatabaseSettings",
    "GitHubSettings",
    "LoggingSettings",
    "OpsSettings",
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


class DatabaseSettings(BaseSettings):
    """PostgreSQL: ``DATABASE_URL``, ``DB_POOL_SIZE``, ``DB_MAX_OVERFLOW``."""

    model_config = section()

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
        if not url.startswith(ASYNC_SCHEME):
            raise ValueError("must be a postgresql:// URL")
        return url


class RedisSettings(BaseSettings):
    """Redis, which carries the jobs: ``REDIS_URL``, ``QUEUE_NAME``, ``QUEUE_*``."""

    model_config = section()

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


class SecretsSettings(BaseSettings):
    """The keys that encrypt project secrets at rest, 32 bytes in base64 each:
    ``SECRETS_KEYS`` (comma-separated, newest first: the first encrypts, all decrypt) or
    ``SECRETS_KEY`` (one). ``SECRETS_RETENTION_DAYS``: how long a ``repo_failed`` project
    keeps its encrypted values."""

    model_config = section()

    key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SECRETS_KEY"))
    keys: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SECRETS_KEYS"))
    retention_days: float = Field(
        default=7.0, gt=0, validation_alias=AliasChoices("SECRETS_RETENTION_DAYS")
    )

    @field_validator("key", "keys")
    @classmethod
    def _thirty_two_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for text in value.get_secret_value().split(","):
            try:
                key = b64decode(text.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("is not valid base64") from None
            if len(key) != SECRETS_KEY_BYTES:
                raise ValueError(f"must be {SECRETS_KEY_BYTES} bytes, got {len(key)}")
        return value

    def all_keys(self) -> list[SecretStr]:
        """Every configured key, newest first."""
        if self.keys is not None:
            return [SecretStr(k.strip()) for k in self.keys.get_secret_value().split(",")]
        return [self.key] if self.key is not None else []


class ApiSettings(BaseSettings):
    """The REST API's process, its body limit and abuse limits: ``API_*`` (a limit of 0 is
    unlimited)."""

    model_config = section("API_")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, description="Processes (one per core).")
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Request bodies over this are refused (413) while they are read.",
    )
    creates_per_owner_per_minute: int = Field(
        default=DEFAULT_CREATES_PER_OWNER_PER_MINUTE,
        ge=0,
        description="Project creates per owner in any minute, fleet-wide.",
    )
    active_projects_per_owner: int = Field(
        default=DEFAULT_ACTIVE_PROJECTS_PER_OWNER,
        ge=0,
        description="Projects per owner that are not repo_failed.",
    )
    token_mints_per_project_per_minute: int = Field(
        default=DEFAULT_TOKEN_MINTS_PER_PROJECT_PER_MINUTE,
        ge=0,
        description="Repository tokens per project in any minute, fleet-wide.",
    )
    max_long_polls: int = Field(
        default=DEFAULT_MAX_LONG_POLLS, ge=0, description="Long polls at once per API process."
    )

    @property
    def limits(self) -> AbuseLimits:
        """The abuse limits, for the API's resources."""
        return AbuseLimits(
            creates_per_owner_per_minute=self.creates_per_owner_per_minute,
            active_projects_per_owner=self.active_projects_per_owner,
            token_mints_per_project_per_minute=self.token_mints_per_project_per_minute,
            max_long_polls=self.max_long_polls,
        )


class WorkerSettings(BaseSettings):
    """How hard the worker tries and how fast it reacts: ``WORKER_*``."""

    model_config = section("WORKER_")

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
        default=0.02,
        gt=0,
        description="Queue polling: deferred jobs, and dispatches whose wake-up was lost.",
    )
    health_check_interval_s: int = Field(default=10, ge=1)
    shutdown_wait_s: int = Field(default=20, ge=0, description="Grace for running jobs.")
    sweep_every_s: int = Field(default=30, ge=5, description="Sweeper period.")
    metrics_port: int = Field(
        default=9200, ge=0, le=65535, description="Serves /metrics (0: not served)."
    )
    sweep_max_requeues: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices("SWEEPER_MAX_REQUEUES"),
        description="Re-submissions in a row without progress before the project fails.",
    )
    sweep_grace_s: float = Field(
        default=60.0, ge=0, description="A row untouched this long whose job is gone is requeued."
    )
    reconcile_interval_s: float = Field(
        default=3600.0,
        ge=0,
        validation_alias=AliasChoices("RECONCILE_INTERVAL_S"),
        description="Every ready project is checked for drift this often (0: never).",
    )
    reconcile_budget_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        validation_alias=AliasChoices("RECONCILE_BUDGET_SHARE"),
        description="The share of GitHub's budget drift correction may use at most.",
    )


AGENT_PERMISSIONS_ALLOWED = frozenset(
    {
        "contents",
        "pull_requests",
        "issues",
        "metadata",
        "actions",
        "checks",
        "statuses",
        "workflows",
    }
)
"""What an agent's repository token may be granted: repository work, nothing
administrative (no administration, secrets, members, organization settings...)."""


class AgentSettings(BaseSettings):
    """What an agent's repository token may do: ``AGENT_TOKEN_PERMISSIONS`` (JSON)."""

    model_config = section("AGENT_TOKEN_")

    permissions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_AGENT_PERMISSIONS))

    @field_validator("permissions")
    @classmethod
    def _levels(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in ("read", "write", "admin")}
        if bad or not value:
            raise ValueError(f"permissions must map names to read/write/admin: {json.dumps(bad)}")
        refused = {k: v for k, v in value.items() if k not in AGENT_PERMISSIONS_ALLOWED}
        if refused:
            allowed = ", ".join(sorted(AGENT_PERMISSIONS_ALLOWED))
            raise ValueError(
                f"agents' tokens may not have {json.dumps(refused)}: only {allowed} "
                "(nothing administrative)"
            )
        return value


class OpsSettings(BaseSettings):
    """The ops console at ``/ops``: ``OPS_CONSOLE`` (off unless 1) and its sign-in sessions."""

    model_config = section("OPS_")

    console: bool = Field(default=False, description="Serve the ops console at /ops.")
    session_ttl_s: int = Field(
        default=8 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="A console sign-in lasts this long (the session cookie's Max-Age).",
    )


class LoggingSettings(BaseSettings):
    """Log output: ``LOG_LEVEL`` and ``LOG_FORMAT`` (``json`` or ``console``)."""

    model_config = section("LOG_")

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
    "ops": OpsSettings,
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
    ops: OpsSettings = Field(default_factory=OpsSettings)
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


def load_settings(
    *,
    require_github: bool = False,
    require_secrets_key: bool = False,
    parse_app_key: bool = True,
) -> Settings:
    """Read and check every section now; the first problem is a :class:`ConfigError`.

    The App key is parsed here when an App is configured (or ``require_github``),
    so a bad key is one line at start, not a failure on the first job; so is
    ``SECRETS_KEY`` when it is set (or ``require_secrets_key``). ``parse_app_key``
    False leaves the key to the caller (``provisioner doctor`` checks it on its own).
    """
    sections: dict[str, BaseSettings] = {}
    for name, kind in _SECTIONS.items():
        try:
            sections[name] = kind()
        except ValidationError as exc:
            first = exc.errors()[0]
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{_variable(kind, first['loc'])}: {message}") from None
    settings = Settings.model_validate(sections)
    if parse_app_key and (require_github or settings.github.configured):
        _ = settings.github.app
    if require_secrets_key and not settings.secrets.all_keys():
        raise ConfigError("SECRETS_KEY is not set: give 32 random bytes in base64")
    return settings

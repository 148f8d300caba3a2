"""What every settings section shares: the section config and the database URL rule."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

__all__ = ["ASYNC_SCHEME", "normalize_database_url", "section"]

ASYNC_SCHEME = "postgresql+asyncpg://"
_PLAIN_SCHEMES = ("postgresql://", "postgres://")


def normalize_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs become ``postgresql+asyncpg://``."""
    url = url.strip()
    for scheme in _PLAIN_SCHEMES:
        if url.startswith(scheme):
            return ASYNC_SCHEME + url.removeprefix(scheme)
    return url


def section(prefix: str = "") -> SettingsConfigDict:
    """A section read from the environment with ``prefix``: frozen, fields by name too."""
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True, populate_by_name=True)

"""Errors shared by every part of provisioner that are not about GitHub."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """The service is configured wrongly; the message says what to fix."""

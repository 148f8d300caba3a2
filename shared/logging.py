"""Structured logging (structlog) for every process, with secrets masked on the way out.

Context bound with :func:`structlog.contextvars.bind_contextvars` (the worker
binds ``project_id``, ``job_id`` and ``attempt``) is merged into every line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from shared.settings import LoggingSettings

__all__ = ["configure_logging", "redact"]

_SECRET_KEYS = re.compile(
    r"(token|secret|password|passwd|authorization|private|key|credential|cookie|"
    r"encrypted_value|ciphertext)",
    re.IGNORECASE,
)
_SECRET_VALUES = re.compile(r"\b(ghs_|ghp_|gho_|ghu_|github_pat_|prv_)[A-Za-z0-9_\-]{8,}")
_MASK = "[redacted]"
_SAFE_KEYS = frozenset(
    {"token_minted", "secret_names", "secrets_count", "secret", "key_id", "job_key"}
)
"""Keys that look secret but carry only names or counts (``secret`` names one secret)."""


def _clean(key: str, value: Any) -> Any:
    """Mask everything under a secret-looking key, however deep; scrub token-like strings."""
    if key not in _SAFE_KEYS and _SECRET_KEYS.search(key):
        return _masked(value)
    if isinstance(value, str):
        return _SECRET_VALUES.sub(lambda m: m.group(1) + _MASK, value)
    if isinstance(value, Mapping):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(key, item) for item in value]
    return value


def _masked(value: Any) -> Any:
    """The shape of ``value`` with every leaf masked (names of a mapping stay readable)."""
    if isinstance(value, Mapping):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _MASK


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks values under secret-looking keys (nested dicts and lists
    included) and token-looking strings anywhere, tracebacks included."""
    for key in list(event_dict):
        event_dict[key] = _clean(key, event_dict[key])
    return event_dict


def configure_logging(settings: LoggingSettings) -> None:
    """Send structlog and stdlib logging to stderr, one event per line, at ``settings.level``."""
    level, renderer = settings.level, settings.format
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    final: Any = (
        structlog.processors.JSONRenderer()
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, final],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

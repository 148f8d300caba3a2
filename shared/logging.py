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
    r"(token|secret|password|passwd|authorization|private_key|encrypted_value|ciphertext)",
    re.IGNORECASE,
)
_SECRET_VALUES = re.compile(r"\b(ghs_|ghp_|gho_|ghu_|github_pat_|prv_)[A-Za-z0-9_\-]{8,}")
_MASK = "[redacted]"
_SAFE_KEYS = frozenset({"token_minted", "secret_names", "secrets_count"})


def _clean(key: str, value: Any) -> Any:
    if key not in _SAFE_KEYS and _SECRET_KEYS.search(key) and isinstance(value, str | bytes):
        return _MASK
    if isinstance(value, str):
        return _SECRET_VALUES.sub(lambda m: m.group(1) + _MASK, value)
    if isinstance(value, Mapping):
        return {k: _clean(str(k), v) for k, v in value.items()}
    return value


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks values under secret-looking keys and token-looking strings."""
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

"""Secrets never reach a log line: the real structlog processors at DEBUG, nested values,
GitHub error paths and tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest
import structlog

from shared.github.errors import error_from_response
from shared.logging import configure_logging, redact
from shared.settings import LoggingSettings

CANARY = "sk-canary-4f1c9e"
TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0" * 2


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Everything the configured logging writes, as text; logging is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    configure_logging(LoggingSettings(level="DEBUG", format="json"))
    out = io.StringIO()
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def test_nested_dicts_and_lists_under_secret_keys_are_masked() -> None:
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "secrets": {"OPENAI_API_KEY": CANARY, "nested": [{"value": CANARY}]},
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "items": [{"password": CANARY}, {"api_key": CANARY}],
            "private_key": CANARY,
            "secret": "OPENAI_API_KEY",  # a secret's name is fine to log
            "count": 3,
        },
    )
    assert CANARY not in repr(event)
    assert TOKEN not in repr(event)
    assert event["secrets"]["OPENAI_API_KEY"] == "[redacted]"
    assert event["secret"] == "OPENAI_API_KEY" and event["count"] == 3


def test_the_configured_processors_mask_github_errors_and_tracebacks(
    lines: io.StringIO,
) -> None:
    log = structlog.get_logger("test.redaction")
    log.debug("debug.line", secrets={"API_KEY": CANARY}, token=TOKEN)
    request = httpx.Request("PUT", "https://api.github.com/repos/acme/bot/actions/secrets/X")
    answer = httpx.Response(422, json={"message": f"bad value {TOKEN}"}, request=request)
    error = error_from_response(answer, now=0)
    log.warning("github.refused", error=str(error), body={"encrypted_value": CANARY})
    try:
        raise RuntimeError(f"while sending with {TOKEN}")
    except RuntimeError:
        log.exception("job.unexpected_error", config={"password": CANARY})
    logging.getLogger("stdlib").error("stdlib line %s", TOKEN)

    text = lines.getvalue()
    assert "debug.line" in text and "job.unexpected_error" in text and "Traceback" in text
    assert TOKEN not in text
    assert CANARY not in text


def test_a_create_request_never_shows_its_secret_values() -> None:
    from shared.projects.schemas import ProjectCreate

    body = ProjectCreate(name="bot", secrets={"OPENAI_API_KEY": CANARY})
    assert CANARY not in repr(body) and CANARY not in str(body)
    assert body.secrets is not None
    assert body.secrets["OPENAI_API_KEY"].get_secret_value() == CANARY

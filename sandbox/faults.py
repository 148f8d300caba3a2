"""Fault injection: random faults (seeded) and a one-shot scheduler for tests."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from sandbox.errors import DOCS

__all__ = [
    "GITHUB_MAX_CONCURRENT",
    "GITHUB_WRITES_PER_HOUR",
    "GITHUB_WRITES_PER_MINUTE",
    "FailRule",
    "Faults",
    "Injection",
    "Injector",
]

GITHUB_WRITES_PER_MINUTE = 80
GITHUB_WRITES_PER_HOUR = 500
GITHUB_MAX_CONCURRENT = 100


@dataclass
class Faults:
    """Fault settings, mutable at runtime. Rates are shares of requests (0..1).

    ``post_create_404_s``: for that many seconds after a repository is created, every
    request about it answers 404. GitHub's secondary limits, each off when None:
    ``secondary_limit_per_minute`` / ``secondary_limit_per_hour`` content-creating
    requests (POST, PUT, PATCH, DELETE) per installation in any sliding 60 s / 3600 s
    (GitHub: 80 / 500), ``max_concurrent_requests`` in flight at once per installation
    (GitHub: 100). ``template_content_delay_s``: how long a repository generated from a
    template answers 404 before its copied files appear.
    """

    latency_s: float = 0.0
    server_error_rate: float = 0.0
    rate_limit_429_rate: float = 0.0
    retry_after_s: int = 60
    post_create_404_s: float = 0.0
    drop_connection_rate: float = 0.0
    secondary_limit_per_minute: int | None = None
    secondary_limit_per_hour: int | None = None
    max_concurrent_requests: int | None = None
    template_content_delay_s: float = 0.0

    @classmethod
    def github_limits(cls) -> Faults:
        """No faults, and GitHub's documented secondary limits (80/min, 500/h, 100 at once)."""
        return cls(
            secondary_limit_per_minute=GITHUB_WRITES_PER_MINUTE,
            secondary_limit_per_hour=GITHUB_WRITES_PER_HOUR,
            max_concurrent_requests=GITHUB_MAX_CONCURRENT,
        )


@dataclass
class FailRule:
    """Fail the next ``times`` requests matching ``method`` and ``path_regex`` (``re.search``)."""

    method: str
    path_regex: re.Pattern[str]
    status: int = 502
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    drop: bool = False


@dataclass(frozen=True)
class Injection:
    """A fault to answer with instead of handling the request."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str]
    drop: bool = False


def _default_body(status: int) -> dict[str, Any]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"message": phrase, "documentation_url": DOCS, "status": str(status)}


class Injector:
    """Decides, before anything else happens, whether a request fails."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(seed)  # noqa: S311 - reproducible faults
        self._rules: list[FailRule] = []

    def fail_next(self, rule: FailRule) -> None:
        """Queue a one-shot rule; rules are tried in the order they were added."""
        self._rules.append(rule)

    def clear(self) -> None:
        """Forget every queued one-shot rule."""
        self._rules.clear()

    def pick(self, method: str, path: str) -> Injection | None:
        """The fault for this request, if any (consumes one use of a matching rule)."""
        for rule in self._rules:
            if rule.method.upper() == method.upper() and rule.path_regex.search(path):
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
                body = rule.body if rule.body is not None else _default_body(rule.status)
                return Injection(rule.status, body, dict(rule.headers), rule.drop)
        return self._random()

    def _random(self) -> Injection | None:
        f = self.faults
        if f.drop_connection_rate and self._rng.random() < f.drop_connection_rate:
            return Injection(502, None, {}, drop=True)
        if f.server_error_rate and self._rng.random() < f.server_error_rate:
            status = self._rng.choice([500, 502, 503])
            return Injection(status, _default_body(status), {})
        if f.rate_limit_429_rate and self._rng.random() < f.rate_limit_429_rate:
            body = {
                "message": "API rate limit exceeded. Please retry your request again later.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "429",
            }
            return Injection(429, body, {"retry-after": str(f.retry_after_s)})
        return None

"""Typed GitHub errors, decided from status code, headers and JSON body.

Never from the text of an exception: :func:`error_from_response` is the one
place that turns an HTTP answer into an error. Every error says whether
trying again later can help (``transient``) and carries a stable ``code``
that the worker stores and ops read.

                                     code                    transient
    GitHubError                      github_error            (base)
    ├── GitHubTransportError         github_unreachable      yes
    ├── WaitForBudget                github_budget_wait      yes (a pause: no attempt spent)
    ├── GitHubConfigError            github_config           no
    └── GitHubHTTPError              github_http_error       no
        ├── BadRequest (400)         github_bad_request      no
        ├── Unauthorized (401)       github_unauthorized     no
        ├── Forbidden (403)          github_forbidden        no
        ├── RateLimited (403, 429)   github_rate_limited     yes (retry_after)
        ├── NotFound (404)           github_not_found        no
        │   └── RepositoryNotYetVisible github_repo_not_yet_visible yes
        ├── Conflict (409)           github_conflict         no
        ├── ValidationFailed (422)   github_validation_failed no
        │   └── RepositoryNameTaken  github_name_exists      no
        └── ServerError (5xx)        github_server_error     yes
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "GitHubConfigError",
    "GitHubError",
    "GitHubHTTPError",
    "GitHubTransportError",
    "NotFound",
    "RateLimited",
    "RepositoryNameTaken",
    "RepositoryNotYetVisible",
    "ServerError",
    "Unauthorized",
    "ValidationFailed",
    "WaitForBudget",
    "error_from_response",
    "is_rate_limited",
]

DEFAULT_RATE_LIMIT_WAIT_S = 60.0
"""GitHub: a rate-limit answer with no hint means "wait at least a minute"."""


class GitHubError(Exception):
    """Base of every GitHub failure."""

    code: ClassVar[str] = "github_error"
    transient: ClassVar[bool] = False
    spends_attempt: ClassVar[bool] = True
    """False for a pause that is no failure (:class:`WaitForBudget`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retry_after(self) -> float | None:
        """Seconds GitHub asked us to wait, when it asked."""
        return None


class GitHubTransportError(GitHubError):
    """No usable answer: timeout, refused or dropped connection, broken response."""

    code = "github_unreachable"
    transient = True


class WaitForBudget(GitHubError):
    """The fleet's GitHub budget cannot serve the request soon enough: come back later.

    Not a failure: ``spends_attempt`` is false, and ``retry_after`` says when the
    budget expects to have room (``reason`` names the limit in the way).
    """

    code = "github_budget_wait"
    transient = True
    spends_attempt = False

    def __init__(self, message: str, *, wait_s: float, reason: str) -> None:
        super().__init__(message)
        self.wait_s = wait_s
        self.reason = reason

    @property
    def retry_after(self) -> float:
        return self.wait_s


class GitHubConfigError(GitHubError):
    """The App is not set up the way the service needs (installation missing, ambiguous)."""

    code = "github_config"


class GitHubHTTPError(GitHubError):
    """GitHub answered with an error status."""

    code = "github_http_error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str = "",
        path: str = "",
        errors: Sequence[Mapping[str, Any]] = (),
        documentation_url: str | None = None,
        accepted_permissions: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.accepted_permissions = accepted_permissions
        """``x-accepted-github-permissions`` of a 403: what would have worked
        (``administration=write``; alternatives separated by ``;``)."""
        self.after_retries = False
        """True when earlier tries of the same request got no answer or a 5xx."""
        self.method = method
        self.path = path
        self.errors = list(errors)
        self.documentation_url = documentation_url

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        return f"GitHub answered {self.status}{where}: {self.message}"


class BadRequest(GitHubHTTPError):
    """400, or any other 4xx that has no class of its own."""

    code = "github_bad_request"


class Unauthorized(GitHubHTTPError):
    """401: the JWT or token is missing, wrong or expired."""

    code = "github_unauthorized"


class Forbidden(GitHubHTTPError):
    """403 with no rate-limit signal: e.g. the App lacks a permission."""

    code = "github_forbidden"


class RateLimited(GitHubHTTPError):
    """403 or 429 because of a primary or secondary rate limit."""

    code = "github_rate_limited"
    transient = True

    def __init__(self, message: str, *, wait_s: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.wait_s = wait_s

    @property
    def retry_after(self) -> float:
        return self.wait_s


class NotFound(GitHubHTTPError):
    """404: missing, or private and not visible to this token."""

    code = "github_not_found"


class RepositoryNotYetVisible(NotFound):
    """404 about a repository we created moments ago (GitHub's post-creation delay)."""

    code = "github_repo_not_yet_visible"
    transient = True


class Conflict(GitHubHTTPError):
    """409: e.g. a stale blob ``sha`` on a contents update."""

    code = "github_conflict"


class ValidationFailed(GitHubHTTPError):
    """422: GitHub refused the request's content."""

    code = "github_validation_failed"


class RepositoryNameTaken(ValidationFailed):
    """422: a repository with this name already exists on the account."""

    code = "github_name_exists"


class ServerError(GitHubHTTPError):
    """5xx: GitHub failed; trying again later usually works."""

    code = "github_server_error"
    transient = True


def _json_body(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _rate_limit_wait(response: httpx.Response, body: Mapping[str, Any], now: float) -> float | None:
    """Seconds to wait if the answer is a rate limit, following GitHub's documented order."""
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return DEFAULT_RATE_LIMIT_WAIT_S
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return DEFAULT_RATE_LIMIT_WAIT_S
        return max(1.0, math.ceil(reset - now) + 1.0)
    message = str(body.get("message", "")).lower()
    if response.status_code == 429 or "rate limit" in message:
        return DEFAULT_RATE_LIMIT_WAIT_S
    return None


def is_rate_limited(response: httpx.Response, *, now: float) -> bool:
    """Whether ``response`` is a primary or secondary rate-limit answer."""
    if response.status_code not in (403, 429):
        return False
    return _rate_limit_wait(response, _json_body(response), now) is not None


def _is_name_taken(errors: Sequence[Mapping[str, Any]]) -> bool:
    for error in errors:
        if not isinstance(error, Mapping) or error.get("field") != "name":
            continue
        if error.get("code") == "already_exists":
            return True
        if error.get("code") == "custom" and "already exists" in str(error.get("message", "")):
            return True
    return False


def error_from_response(response: httpx.Response, *, now: float) -> GitHubHTTPError:
    """The typed error for a non-2xx answer. ``now`` is epoch seconds (for rate-limit resets)."""
    body = _json_body(response)
    status = response.status_code
    raw_errors = body.get("errors")
    errors: list[Mapping[str, Any]] = (
        [e for e in raw_errors if isinstance(e, Mapping)] if isinstance(raw_errors, list) else []
    )
    try:
        method, path = response.request.method, response.request.url.path
    except RuntimeError:  # a response built without a request (tests)
        method, path = "", ""
    kwargs: dict[str, Any] = {
        "status": status,
        "method": method,
        "path": path,
        "errors": errors,
        "documentation_url": body.get("documentation_url"),
        "accepted_permissions": response.headers.get("x-accepted-github-permissions") or None,
    }
    message = str(body.get("message") or response.reason_phrase or "error")
    if status in (403, 429):
        wait = _rate_limit_wait(response, body, now)
        if wait is not None:
            return RateLimited(message, wait_s=wait, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    classes: dict[int, type[GitHubHTTPError]] = {
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
        409: Conflict,
        422: RepositoryNameTaken if _is_name_taken(errors) else ValidationFailed,
    }
    return classes.get(status, BadRequest)(message, **kwargs)

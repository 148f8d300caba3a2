"""The one error type every sandbox handler raises, and GitHub's common error bodies."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DOCS",
    "GitHubError",
    "archived_read_only",
    "bad_credentials",
    "invalid_request",
    "not_accessible",
    "not_found",
    "validation_failed",
]

DOCS = "https://docs.github.com/rest"


class GitHubError(Exception):
    """An error answer: HTTP ``status``, JSON ``body`` and extra ``headers``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, **extra}
        self.body["documentation_url"] = documentation_url
        self.body["status"] = str(status)
        self.headers = dict(headers or {})


def bad_credentials() -> GitHubError:
    """401 for an unknown, malformed or expired installation token."""
    return GitHubError(401, "Bad credentials")


def not_found(documentation_url: str = DOCS) -> GitHubError:
    """404, also GitHub's answer for private things the caller may not see."""
    return GitHubError(404, "Not Found", documentation_url=documentation_url)


def not_accessible(documentation_url: str = DOCS, accepted: str | None = None) -> GitHubError:
    """403 for a permission the installation or token lacks.

    ``accepted``: the ``x-accepted-github-permissions`` header (e.g. ``administration=write``).
    """
    headers = {"x-accepted-github-permissions": accepted} if accepted else None
    return GitHubError(
        403,
        "Resource not accessible by integration",
        documentation_url=documentation_url,
        headers=headers,
    )


def archived_read_only(documentation_url: str = DOCS) -> GitHubError:
    """403 for a write to an archived repository."""
    return GitHubError(
        403, "Repository was archived so is read-only.", documentation_url=documentation_url
    )


def invalid_request(detail: str, documentation_url: str = DOCS) -> GitHubError:
    """422 ``Invalid request.`` with a detail line, as GitHub words schema failures."""
    return GitHubError(422, f"Invalid request.\n\n{detail}", documentation_url=documentation_url)


def validation_failed(
    message: str,
    *,
    resource: str,
    field: str,
    code: str = "custom",
    detail: str | None = None,
    documentation_url: str = DOCS,
) -> GitHubError:
    """422 with an ``errors`` list (``code`` one of GitHub's: custom, missing_field, ...)."""
    error: dict[str, str] = {"resource": resource, "code": code, "field": field}
    if detail is not None:
        error["message"] = detail
    return GitHubError(422, message, documentation_url=documentation_url, errors=[error])

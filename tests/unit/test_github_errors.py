"""Every GitHub answer maps to one typed error, from status, headers and body alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.github import errors as e

NOW = 1_700_000_000.0
NAME_TAKEN = {
    "message": "Repository creation failed.",
    "errors": [
        {
            "resource": "Repository",
            "code": "custom",
            "field": "name",
            "message": "name already exists on this account",
        }
    ],
}


def _response(
    status: int, headers: dict[str, str] | None = None, body: Any = None
) -> httpx.Response:
    request = httpx.Request("POST", "https://api.github.com/orgs/acme/repos")
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, headers=headers, json=body, request=request)


@pytest.mark.parametrize(
    ("status", "headers", "body", "error_type", "transient", "wait"),
    [
        (400, {}, {"message": "Problems parsing JSON"}, e.BadRequest, False, None),
        (401, {}, {"message": "Bad credentials"}, e.Unauthorized, False, None),
        (403, {}, {"message": "Resource not accessible by integration"}, e.Forbidden, False, None),
        (403, {"retry-after": "30"}, {"message": "secondary"}, e.RateLimited, True, 30.0),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120)},
            {"message": "API rate limit exceeded for installation ID 1."},
            e.RateLimited,
            True,
            121.0,
        ),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 5)},
            {"message": "API rate limit exceeded"},
            e.RateLimited,
            True,
            1.0,
        ),
        (
            403,
            {"x-ratelimit-remaining": "12"},
            {"message": "You have exceeded a secondary rate limit."},
            e.RateLimited,
            True,
            60.0,
        ),
        (429, {"retry-after": "7"}, {"message": "slow down"}, e.RateLimited, True, 7.0),
        (429, {}, None, e.RateLimited, True, 60.0),
        (404, {}, {"message": "Not Found"}, e.NotFound, False, None),
        (409, {}, {"message": "x does not match abc"}, e.Conflict, False, None),
        (422, {}, NAME_TAKEN, e.RepositoryNameTaken, False, None),
        (
            422,
            {},
            {
                "message": "Validation Failed",
                "errors": [{"field": "name", "code": "already_exists"}],
            },
            e.RepositoryNameTaken,
            False,
            None,
        ),
        (
            422,
            {},
            {"message": "Validation Failed", "errors": [{"field": "name", "code": "invalid"}]},
            e.ValidationFailed,
            False,
            None,
        ),
        (
            422,
            {},
            {"message": 'Invalid request.\n\n"sha" wasn\'t supplied.'},
            e.ValidationFailed,
            False,
            None,
        ),
        (500, {}, {"message": "Server Error"}, e.ServerError, True, None),
        (502, {}, None, e.ServerError, True, None),
        (503, {"retry-after": "5"}, None, e.ServerError, True, None),
        (418, {}, {"message": "teapot"}, e.BadRequest, False, None),
    ],
)
def test_error_mapping(
    status: int,
    headers: dict[str, str],
    body: Any,
    error_type: type[e.GitHubHTTPError],
    transient: bool,
    wait: float | None,
) -> None:
    error = e.error_from_response(_response(status, headers, body), now=NOW)
    assert type(error) is error_type
    assert error.transient is transient
    assert error.retry_after == wait
    assert error.status == status
    assert error.method == "POST"
    assert error.path == "/orgs/acme/repos"


def test_message_and_errors_are_kept() -> None:
    error = e.error_from_response(_response(422, {}, NAME_TAKEN), now=NOW)
    assert error.message == "Repository creation failed."
    assert error.errors[0]["field"] == "name"
    assert "422" in str(error)
    assert error.code == "github_name_exists"


def test_body_that_is_not_json_still_maps() -> None:
    request = httpx.Request("GET", "https://api.github.com/app")
    error = e.error_from_response(
        httpx.Response(502, text="<html>bad gateway</html>", request=request), now=NOW
    )
    assert isinstance(error, e.ServerError)
    assert error.message == "Bad Gateway"


def test_every_error_code_is_distinct() -> None:
    classes: list[type[e.GitHubError]] = [
        e.GitHubTransportError, e.GitHubConfigError, e.GitHubHTTPError, e.BadRequest,
        e.Unauthorized, e.Forbidden, e.RateLimited, e.NotFound, e.RepositoryNotYetVisible,
        e.Conflict, e.ValidationFailed, e.RepositoryNameTaken, e.ServerError,
    ]  # fmt: skip
    assert len({c.code for c in classes}) == len(classes)

"""Every (path, method) of GitHub's description gets an answer, never a crash or a 5xx.

Each operation is called with the right credential (App JWT or installation token),
once with no body and once with the description's own example body, against a
repository that exists and one that does not. Operations the sandbox does not
simulate answer GitHub's 404 with a hint header.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox import GitHubSandbox
from sandbox.handlers import HANDLERS, UNIMPLEMENTED_HEADER
from sandbox.spec import document, match_route, routes
from tests.sandbox.conftest import ORG, Tokens

_SAMPLES = {
    "owner": ORG,
    "org": ORG,
    "template_owner": ORG,
    "path": "README.md",
    "secret_name": "SOME_SECRET",
    "name": "SOME_VARIABLE",
    "team_slug": "platform",
    "username": "alice",
    "invitation_id": "1",
    "ruleset_id": "1",
    "branch": "main",
    "environment_name": "production",
}


def _example_body(pattern: str, method: str) -> Any:
    operation = document()["paths"][pattern][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    for example in content.get("examples", {}).values():
        if "value" in example:
            return example["value"]
        ref = example.get("$ref", "")
        if ref:
            found: Any = document()
            for part in ref.lstrip("#/").split("/"):
                found = found[part]
            return found.get("value")
    return content.get("example")


def _concrete(pattern: str, repo: str, installation_id: int) -> str:
    values = {**_SAMPLES, "repo": repo, "template_repo": repo}
    values["installation_id"] = str(installation_id)
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], pattern)


@pytest.mark.parametrize("repo", ["walk", "absent"])
async def test_no_operation_crashes(
    client: httpx.AsyncClient,
    sandbox: GitHubSandbox,
    tokens: Tokens,
    app_headers: Callable[[], dict[str, str]],
    repo: str,
) -> None:
    sandbox.add_repository(ORG, "walk", files={"README.md": "hello\n"})
    installation_id = await tokens.installation_id()
    seen = 0
    for route in routes():
        app_only = HANDLERS.get(route.operation_id) and HANDLERS[route.operation_id].auth == "app"
        for body in (None, _example_body(route.pattern, route.method)):
            auth = app_headers() if app_only else await tokens.headers()
            path = _concrete(route.pattern, repo, installation_id)
            r = await client.request(route.method, path, headers=auth, json=body)
            assert r.status_code < 500, f"{route.method} {path}: {r.status_code} {r.text}"
            if r.status_code >= 400:
                assert set(r.json()) >= {"message", "documentation_url"}, r.text
            seen += 1
    assert seen == 2 * len(routes())


async def test_unimplemented_operations_answer_githubs_404(
    client: httpx.AsyncClient, sandbox: GitHubSandbox, auth: dict[str, str]
) -> None:
    missing = [r for r in routes() if r.operation_id not in HANDLERS]
    for route in missing:
        path = _concrete(route.pattern, "walk", 1)
        body = _example_body(route.pattern, route.method)
        r = await client.request(route.method, path, headers=auth, json=body)
        assert r.status_code == 404, (route.operation_id, r.text)
        assert r.json()["message"] == "Not Found"
        assert r.json()["documentation_url"].startswith("https://docs.github.com/")
        assert r.headers[UNIMPLEMENTED_HEADER] == route.operation_id
    assert sandbox.spec_violations == []


def test_literal_segments_win_over_parameters() -> None:
    route, _ = match_route("GET", "/repos/a/b/actions/secrets/public-key")
    assert route is not None
    assert route.operation_id == "actions/get-repo-public-key"

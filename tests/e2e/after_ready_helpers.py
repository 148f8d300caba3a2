"""Helpers of the after-ready tests: wait for a project state by long poll, count requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from provisioner_client import ProjectsClient, WaitTimedOut
from sandbox import GitHubSandbox

Predicate = Callable[[dict[str, Any]], bool]


async def wait_for(
    client: ProjectsClient, project_id: str, done: Predicate, *, timeout_s: float = 60.0
) -> dict[str, Any]:
    """The project once ``done(project)``, following changes by long poll."""
    deadline = time.monotonic() + timeout_s
    project, etag = await client.wait_for_change(project_id, wait_s=0)
    assert project is not None
    while not done(project):
        left = deadline - time.monotonic()
        if left <= 0:
            raise WaitTimedOut(project, timeout_s)
        changed, etag = await client.wait_for_change(project_id, wait_s=min(10.0, left), etag=etag)
        if changed is not None:
            project = changed
    return project


def synced(generation: int) -> Predicate:
    """The sync of ``generation`` is applied (or failed)."""

    def done(project: dict[str, Any]) -> bool:
        sync = project.get("sync") or {}
        return sync.get("generation") == generation and sync.get("state") in ("applied", "failed")

    return done


def status_is(*statuses: str) -> Predicate:
    """The project's status is one of ``statuses``."""
    return lambda project: project["status"] in statuses


def writes(sandbox: GitHubSandbox) -> list[str]:
    """The content-creating requests the sandbox answered since its last reset."""
    return [
        f"{r.method} {r.path}"
        for r in sandbox.requests
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and "/access_tokens" not in r.path
    ]


def requests_to(sandbox: GitHubSandbox, repo: str) -> list[str]:
    """Every request about repository ``repo`` since the last reset."""
    return [f"{r.method} {r.path}" for r in sandbox.requests if f"/{repo}" in r.path]

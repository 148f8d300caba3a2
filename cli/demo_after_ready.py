"""The demo's second act: change a ready project, rotate its secret, undo a change by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from cli.harness import Stack
from provisioner_client import ProjectsClient

__all__ = ["after_ready"]

Done = Callable[[dict[str, Any]], bool]


def _say(text: str) -> None:
    print(text, flush=True)


async def _until(
    client: ProjectsClient, project_id: str, done: Done, timeout_s: float = 60
) -> tuple[dict[str, Any], set[str]]:
    """The project once ``done``, and every status seen on the way (by long poll)."""
    deadline = time.monotonic() + timeout_s
    project, etag = await client.wait_for_change(project_id, wait_s=0)
    assert project is not None
    seen = {project["status"]}
    while not done(project) and time.monotonic() < deadline:
        changed, etag = await client.wait_for_change(project_id, wait_s=10, etag=etag)
        if changed is not None:
            project = changed
            seen.add(project["status"])
    return project, seen


def _synced(generation: int) -> Done:
    return lambda p: (
        (p.get("sync") or {}).get("generation") == generation
        and (p["sync"]["state"] in ("applied", "failed"))
    )


async def after_ready(stack: Stack, user: ProjectsClient, project: dict[str, Any]) -> None:
    """PATCH the topics, rotate the secret, then put back a topic edited by hand."""
    project_id = project["id"]
    full_name = project["repo_info"]["full_name"]
    _say("7. after ready: PATCH /api/projects/{id} (merge-patch, If-Match) with new topics")
    started = time.perf_counter()
    asked = await user.update(project_id, repository={"topics": ["python", "agents", "demo"]})
    done, seen = await _until(user, project_id, _synced(1))
    _say(
        f"   answered {asked['status']} with sync {asked['sync']['state']}; "
        f"sync {done['sync']['state']} {(time.perf_counter() - started) * 1000:.0f} ms later; "
        f"statuses seen meanwhile: {', '.join(sorted(seen))}"
    )
    await user.set_secret(project_id, "OPENAI_API_KEY", "sk-demo-rotated")
    rotated, _ = await _until(user, project_id, _synced(2))
    states = ", ".join(f"{s['name']}={s['state']}" for s in rotated["secrets"])
    _say(f"   PUT /secrets/OPENAI_API_KEY rotated it: {states} (the value never comes back)")
    sandbox_url = stack.env["GITHUB_API_URL"].rstrip("/")
    async with httpx.AsyncClient() as http:  # someone edits the topics in GitHub's UI
        edited = await http.put(
            f"{sandbox_url}/_sandbox/repos/{full_name}/topics", json={"names": ["by-hand"]}
        )
        edited.raise_for_status()
    async with ProjectsClient(stack.api_url, await stack.token("ops", "demo-ops")) as ops:
        before = (await ops.get(project_id))["last_reconciled_at"]
        await ops.reconcile(project_id)
        await _until(ops, project_id, lambda p: p["last_reconciled_at"] != before)
        events = await ops.events(project_id)
    fixed = [e["data"]["settings"] for e in events if e["kind"] == "drift_corrected"]
    for settings in fixed:
        for key, change in settings.items():
            _say(f"   drift corrected by POST /reconcile: {key}: {change['was']} → {change['now']}")

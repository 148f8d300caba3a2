"""The agents' side: a reference developer-node helper for LangGraph workers.

It never imports LangGraph. A node wraps it in three lines::

    async def developer_node(state: dict) -> dict:
        task = await prepare_developer_task(state, projects_client)
        return task.state_update()          # task.token goes to the git tool, not the state

The repository's owner and name always come from the project (never a
hard-coded owner, never a name guessed from the display name), and the agent
is told the repository exists: there is no "create it if missing" step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner_client.projects import ProjectsClient

__all__ = ["REPO_INFO_KEYS", "DeveloperTask", "prepare_developer_task", "repo_info_of"]

REPO_INFO_KEYS = ("owner", "name", "full_name", "html_url", "clone_url", "default_branch")


def repo_info_of(project: Mapping[str, Any]) -> dict[str, str]:
    """``state["repo_info"]`` for a ready project: a plain dict of strings."""
    info = project.get("repo_info")
    if not isinstance(info, Mapping):
        raise ValueError(
            f"project {project.get('id')} has no repository yet ({project.get('status')})"
        )
    return {key: str(info[key]) for key in REPO_INFO_KEYS}


@dataclass(frozen=True)
class DeveloperTask:
    """What the developer node hands to its agent."""

    project_id: str
    repo_info: dict[str, str]
    message: str
    token: str = field(repr=False)
    """Installation token for this one repository; keep it out of checkpointed state."""
    token_expires_at: str
    permissions: dict[str, str]

    def state_update(self) -> dict[str, Any]:
        """The LangGraph state update: repository info and the task message (no token)."""
        return {"repo_info": self.repo_info, "task_message": self.message}


def _task_message(project: Mapping[str, Any], info: Mapping[str, str], request: str | None) -> str:
    lines = [
        f"Project: {project.get('name')} ({project.get('id')}).",
        f"The GitHub repository {info['full_name']} already exists: do not create it.",
        f"Clone {info['clone_url']} (default branch {info['default_branch']}), "
        "authenticating with the repository token you were given.",
        "Work on a new branch, commit your changes, push the branch and open a pull request "
        f"against {info['default_branch']}.",
        "The repository's .project.yaml describes the project; keep it as it is.",
    ]
    if request:
        lines += ["", "Task:", request]
    return "\n".join(lines)


async def prepare_developer_task(
    state: Mapping[str, Any],
    client: ProjectsClient,
    *,
    request: str | None = None,
    timeout_s: float = 600.0,
) -> DeveloperTask:
    """Wait for the state's project to be ready, then fill ``repo_info`` and mint its token.

    ``state["project_id"]`` names the project; ``state["repo_info"]``, when
    present, is checked against the project rather than trusted. Raises
    :class:`provisioner_client.ProjectFailed` (with the code) or
    :class:`provisioner_client.WaitTimedOut`.
    """
    project_id = str(state["project_id"])
    project = await client.wait_until_ready(project_id, timeout_s=timeout_s)
    info = repo_info_of(project)
    known = state.get("repo_info")
    if isinstance(known, Mapping) and known.get("full_name") not in (None, info["full_name"]):
        raise ValueError(
            f"state repo_info names {known.get('full_name')}, "
            f"but project {project_id} owns {info['full_name']}"
        )
    token = await client.repo_token(project_id)
    return DeveloperTask(
        project_id=project_id,
        repo_info=info,
        message=_task_message(project, info, request or state.get("task")),
        token=str(token["token"]),
        token_expires_at=str(token["expires_at"]),
        permissions=dict(token.get("permissions") or {}),
    )

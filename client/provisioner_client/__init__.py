"""The provisioner API from Python: the SDK for submitters and agent workers.

Its one dependency is httpx: importing it pulls in none of the server (FastAPI,
SQLAlchemy, arq, the GitHub sandbox), so it fits a LangGraph worker's image::

    from provisioner_client import ProjectsClient, prepare_developer_task
"""

from provisioner_client.agents import (
    REPO_INFO_KEYS,
    DeveloperTask,
    prepare_developer_task,
    repo_info_of,
)
from provisioner_client.projects import (
    UNSET,
    ApiError,
    ProjectFailed,
    ProjectsClient,
    SyncProjectsClient,
    Unset,
    WaitTimedOut,
)

__all__ = [
    "REPO_INFO_KEYS",
    "UNSET",
    "ApiError",
    "DeveloperTask",
    "ProjectFailed",
    "ProjectsClient",
    "SyncProjectsClient",
    "Unset",
    "WaitTimedOut",
    "prepare_developer_task",
    "repo_info_of",
]

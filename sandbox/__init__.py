"""Our own GitHub: a stateful, strict simulator of the GitHub REST endpoints provisioner uses.

Use :class:`GitHubSandbox` (its ``.app`` is an ASGI app) with ``httpx.ASGITransport`` or
over loopback HTTP with :func:`sandbox.server.serve_in_thread`.
"""

from sandbox.core import ConnectionDropped, GitHubSandbox
from sandbox.faults import Faults
from sandbox.models import (
    Account,
    Commit,
    Installation,
    Organization,
    PropertyDefinition,
    RequestRecord,
    SandboxRepository,
    Team,
)
from sandbox.spec import response_errors
from sandbox.stats import LimitStats, max_in_window

__all__ = [
    "Account",
    "Commit",
    "ConnectionDropped",
    "Faults",
    "GitHubSandbox",
    "Installation",
    "LimitStats",
    "Organization",
    "PropertyDefinition",
    "RequestRecord",
    "SandboxRepository",
    "Team",
    "max_in_window",
    "response_errors",
]

"""``ProjectsClient``: the provisioner API from Python (the CLI and agent workers use it).

Async over httpx. Every non-2xx answer raises :class:`ApiError` with the
API's error shape (``error``, ``detail``, ``field``). Changing a project once it
is ready (``update``, secrets, ``archive``, ``reconcile``) is in
:mod:`provisioner_client.changes`, mixed in.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from provisioner_client.changes import UNSET, ProjectChanges, SyncProjectChanges, Unset

__all__ = [
    "UNSET",
    "ApiError",
    "ProjectFailed",
    "ProjectsClient",
    "SyncProjectsClient",
    "Unset",
    "WaitTimedOut",
]

T = TypeVar("T")

LONG_POLL_S = 30.0
"""How long one long poll waits on the server."""
MAX_WAIT_S = 60.0
"""The API's limit for ``?wait=``."""


class ApiError(Exception):
    """The API refused a request."""

    def __init__(self, status: int, error: str, detail: str, field: str | None = None) -> None:
        where = f" ({field})" if field else ""
        super().__init__(f"{status} {error}{where}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.field = field


class ProjectFailed(Exception):
    """The project ended in ``repo_failed``; ``code`` and ``message`` say why."""

    def __init__(self, project: Mapping[str, Any]) -> None:
        last = project.get("last_error") or {}
        self.project = dict(project)
        self.code = str(last.get("code") or "unknown")
        self.message = str(last.get("message") or "")
        super().__init__(f"project {project.get('id')} failed: {self.code}: {self.message}")


class WaitTimedOut(Exception):
    """The project did not finish in time; ``project`` is its last known state."""

    def __init__(self, project: Mapping[str, Any], timeout_s: float) -> None:
        self.project = dict(project)
        super().__init__(
            f"project {project.get('id')} still {project.get('status')} after {timeout_s:g} s"
        )


class ProjectsClient(ProjectChanges):
    """A client for one provisioner API with one bearer token (changes: :class:`ProjectChanges`)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": "provisioner-client"},
            timeout=timeout_s,
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._checked(await self._http.request(method, url, **kwargs))

    def _checked(self, response: httpx.Response) -> httpx.Response:
        """``response``, or :class:`ApiError` when it is not a 2xx."""
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise ApiError(
                response.status_code,
                str(body.get("error", "http_error")),
                str(body.get("detail", response.reason_phrase)),
                body.get("field"),
            )
        return response

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        project_id: str | None = None,
        repository: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a project; it starts in ``pending_repo``. ``repository``: its settings
        (visibility, topics, teams, protection...), each shown with its outcome."""
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        if config:
            body["config"] = dict(config)
        if secrets:
            body["secrets"] = dict(secrets)
        if project_id is not None:
            body["id"] = project_id
        if repository:
            body["repository"] = dict(repository)
        return dict((await self._call("POST", "/api/projects/", json=body)).json())

    async def get(self, project_id: str) -> dict[str, Any]:
        """The project as it is now."""
        return dict((await self._call("GET", f"/api/projects/{project_id}")).json())

    async def list(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Every project visible to this token (all pages), newest first."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        while True:
            page = (await self._call("GET", "/api/projects", params=params)).json()
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    async def retry(self, project_id: str) -> dict[str, Any]:
        """Ask for another try (ops tokens only)."""
        return dict((await self._call("POST", f"/api/projects/{project_id}/retry")).json())

    async def events(self, project_id: str) -> builtins.list[dict[str, Any]]:
        """The project's history, oldest first."""
        return list((await self._call("GET", f"/api/projects/{project_id}/events")).json()["items"])

    async def wait_for_change(
        self, project_id: str, *, wait_s: float, etag: str | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """One long poll: the project once it differs from ``etag`` (or ``None`` on 304)."""
        headers = {"If-None-Match": etag} if etag else {}
        response = await self._call(
            "GET",
            f"/api/projects/{project_id}",
            params={"wait": f"{wait_s:g}"},
            headers=headers,
            timeout=wait_s + 15.0,
        )
        if response.status_code == 304:
            return None, etag
        return dict(response.json()), response.headers.get("etag")

    async def wait_until_ready(
        self, project_id: str, *, timeout_s: float = 300.0, poll_s: float = LONG_POLL_S
    ) -> dict[str, Any]:
        """Return the project once ``ready``; raise :class:`ProjectFailed` or :class:`WaitTimedOut`.

        Long-polls (``?wait=``), so a change is seen within milliseconds and an
        unchanged project costs one request per ``poll_s``. If the API is
        restarted or unreachable for a while, it tries again with backoff until
        the timeout.
        """
        deadline = time.monotonic() + timeout_s
        project: dict[str, Any] = {"id": project_id, "status": "unknown"}
        etag: str | None = None
        pause = 0.1
        while True:
            if project["status"] == "ready":
                return project
            if project["status"] == "repo_failed":
                raise ProjectFailed(project)
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimedOut(project, timeout_s)
            try:
                # The first call answers at once; later ones wait for a change of that state.
                wait_s = max(0.0, min(poll_s, left, MAX_WAIT_S)) if etag else 0.0
                changed, etag = await self.wait_for_change(project_id, wait_s=wait_s, etag=etag)
            except (httpx.TransportError, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.status < 500:
                    raise
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, 5.0)
                continue
            pause = 0.1
            if changed is not None:
                project = changed

    async def repo_token(self, project_id: str) -> dict[str, Any]:
        """A fresh GitHub token for the project's repository only.

        ``{token, expires_at, repository, permissions}``; 409 (as :class:`ApiError`)
        until the project is ready.
        """
        return dict((await self._call("POST", f"/api/projects/{project_id}/token")).json())


class SyncProjectsClient(SyncProjectChanges):
    """:class:`ProjectsClient`, blocking: for synchronous LangGraph nodes and scripts.

    It owns a private event loop; don't call it from inside a running loop
    (use :class:`ProjectsClient` there).
    """

    _client: ProjectsClient

    def __init__(self, base_url: str, token: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = ProjectsClient(base_url, token, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(call)

    def close(self) -> None:
        """Close the connections and the loop."""
        self._run(self._client.aclose())
        self._loop.close()

    def create(self, name: str, **fields: Any) -> dict[str, Any]:
        """See :meth:`ProjectsClient.create`."""
        return self._run(self._client.create(name, **fields))

    def get(self, project_id: str) -> dict[str, Any]:
        """See :meth:`ProjectsClient.get`."""
        return self._run(self._client.get(project_id))

    def list(self, *, status: str | None = None) -> builtins.list[dict[str, Any]]:
        """See :meth:`ProjectsClient.list`."""
        return self._run(self._client.list(status=status))

    def retry(self, project_id: str) -> dict[str, Any]:
        """See :meth:`ProjectsClient.retry`."""
        return self._run(self._client.retry(project_id))

    def events(self, project_id: str) -> builtins.list[dict[str, Any]]:
        """See :meth:`ProjectsClient.events`."""
        return self._run(self._client.events(project_id))

    def wait_until_ready(self, project_id: str, *, timeout_s: float = 300.0) -> dict[str, Any]:
        """See :meth:`ProjectsClient.wait_until_ready`."""
        return self._run(self._client.wait_until_ready(project_id, timeout_s=timeout_s))

    def repo_token(self, project_id: str) -> dict[str, Any]:
        """See :meth:`ProjectsClient.repo_token`."""
        return self._run(self._client.repo_token(project_id))

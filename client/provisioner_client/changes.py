"""Changing a project after it is ready: merge-patch, secrets, archive and reconcile.

Mixed into :class:`~provisioner_client.ProjectsClient` (async) and
:class:`~provisioner_client.SyncProjectsClient` (blocking). Every call answers
202 with the project, whose ``sync`` object follows GitHub converging.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Coroutine, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx

__all__ = ["MERGE_PATCH", "UNSET", "ProjectChanges", "SyncProjectChanges", "Unset"]

T = TypeVar("T")

MERGE_PATCH: Final = "application/merge-patch+json"
"""The content type of an RFC 7396 JSON merge-patch."""


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a key of :meth:`ProjectChanges.update` not given."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""Leave the key out of the patch (``None`` sends ``null``, which removes it)."""


def _secret_url(project_id: str, name: str) -> str:
    return f"/api/projects/{project_id}/secrets/{quote(name, safe='')}"


class ProjectChanges:
    """The change endpoints; the class mixing this in supplies the HTTP calls."""

    _http: httpx.AsyncClient

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def _checked(self, response: httpx.Response) -> httpx.Response:
        raise NotImplementedError

    async def update(
        self,
        project_id: str,
        *,
        description: str | Unset | None = UNSET,
        config: Mapping[str, Any] | Unset | None = UNSET,
        repository: Mapping[str, Any] | Unset | None = UNSET,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """Merge-patch the project (RFC 7396): a key left :data:`UNSET` stays as it is,
        ``None`` removes it, a nested object merges into the stored one.

        ``if_match``: the ETag the change is based on; a stale one raises
        :class:`~provisioner_client.ApiError` 412. Without it the project is read
        for its ETag first, and read again once if someone changed it meanwhile.
        """
        given = {"description": description, "config": config, "repository": repository}
        patch = {key: value for key, value in given.items() if value is not UNSET}
        url = f"/api/projects/{project_id}"
        body = json.dumps(patch, ensure_ascii=False).encode()
        if if_match is not None:
            return dict((await self._patch(url, body, if_match)).json())
        response = await self._patch(url, body, await self._etag(url), raising=False)
        if response.status_code == 412:  # changed meanwhile: the same intent applies again
            response = await self._patch(url, body, await self._etag(url))
        return dict(response.json())

    async def _etag(self, url: str) -> str | None:
        etag: str | None = (await self._call("GET", url)).headers.get("etag")
        return etag

    async def _patch(
        self, url: str, body: bytes, etag: str | None, *, raising: bool = True
    ) -> httpx.Response:
        """Send the patch; a 412 is returned rather than raised when not ``raising``."""
        headers = {"Content-Type": MERGE_PATCH}
        if etag is not None:
            headers["If-Match"] = etag
        response = await self._http.request("PATCH", url, content=body, headers=headers)
        if response.status_code == 412 and not raising:
            return response
        return self._checked(response)

    async def set_secret(self, project_id: str, name: str, value: str) -> dict[str, Any]:
        """Set or rotate the Actions secret ``name``; the worker pushes it to GitHub."""
        url = _secret_url(project_id, name)
        return dict((await self._call("PUT", url, json={"value": value})).json())

    async def remove_secret(self, project_id: str, name: str) -> dict[str, Any]:
        """Remove the Actions secret ``name`` (404 when the project has none by that name)."""
        return dict((await self._call("DELETE", _secret_url(project_id, name))).json())

    async def archive(self, project_id: str, *, purge: bool = False) -> dict[str, Any]:
        """Archive the repository (``archiving``, then ``archived``).

        ``purge`` (ops tokens only): delete it instead (``archiving``, then ``deleted``).
        """
        params = {"purge": "true"} if purge else None
        url = f"/api/projects/{project_id}"
        return dict((await self._call("DELETE", url, params=params)).json())

    async def reconcile(self, project_id: str) -> dict[str, Any]:
        """Check the repository for drift now and restore it (ops tokens only)."""
        return dict((await self._call("POST", f"/api/projects/{project_id}/reconcile")).json())


class SyncProjectChanges:
    """:class:`ProjectChanges`, blocking; the class mixing this in runs the coroutines."""

    _client: ProjectChanges

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        raise NotImplementedError

    def update(
        self,
        project_id: str,
        *,
        description: str | Unset | None = UNSET,
        config: Mapping[str, Any] | Unset | None = UNSET,
        repository: Mapping[str, Any] | Unset | None = UNSET,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """See :meth:`ProjectChanges.update`."""
        return self._run(
            self._client.update(
                project_id,
                description=description,
                config=config,
                repository=repository,
                if_match=if_match,
            )
        )

    def set_secret(self, project_id: str, name: str, value: str) -> dict[str, Any]:
        """See :meth:`ProjectChanges.set_secret`."""
        return self._run(self._client.set_secret(project_id, name, value))

    def remove_secret(self, project_id: str, name: str) -> dict[str, Any]:
        """See :meth:`ProjectChanges.remove_secret`."""
        return self._run(self._client.remove_secret(project_id, name))

    def archive(self, project_id: str, *, purge: bool = False) -> dict[str, Any]:
        """See :meth:`ProjectChanges.archive`."""
        return self._run(self._client.archive(project_id, purge=purge))

    def reconcile(self, project_id: str) -> dict[str, Any]:
        """See :meth:`ProjectChanges.reconcile`."""
        return self._run(self._client.reconcile(project_id))

"""A repository's life after provisioning: read it whole, archive, unarchive, delete it,
remove one Actions secret. Each is one request through the client (and its budget)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.github.client import GitHubClient
from shared.github.errors import NotFound

__all__ = ["RepositoryLifecycleAPI"]


def _repo(owner: str, name: str) -> str:
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


class RepositoryLifecycleAPI:
    """The lifecycle requests for repositories of ``client``'s installation."""

    def __init__(self, client: GitHubClient) -> None:
        self._client = client

    async def read(self, owner: str, name: str) -> dict[str, Any] | None:
        """``GET /repos/{owner}/{repo}``: the repository object, ``None`` when it is gone."""
        try:
            response = await self._client.request("GET", _repo(owner, name))
        except NotFound:
            return None
        return dict(response.json())

    async def set_archived(self, owner: str, name: str, archived: bool) -> bool:
        """``PATCH archived``; ``False`` when the repository no longer exists."""
        try:
            await self._client.request("PATCH", _repo(owner, name), json={"archived": archived})
        except NotFound:
            return False
        return True

    async def delete(self, owner: str, name: str) -> bool:
        """``DELETE /repos/{owner}/{repo}``; ``False`` when it was already gone."""
        try:
            await self._client.request("DELETE", _repo(owner, name))
        except NotFound:
            return False
        return True

    async def delete_secret(self, owner: str, name: str, secret: str) -> bool:
        """Remove Actions secret ``secret``; ``False`` when GitHub did not have it."""
        url = f"{_repo(owner, name)}/actions/secrets/{quote(secret, safe='')}"
        try:
            await self._client.request("DELETE", url)
        except NotFound:
            return False
        return True

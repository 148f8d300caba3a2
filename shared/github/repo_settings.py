"""Repository settings on GitHub: the requests behind each ``repository`` setting.

Thin and typed, like :class:`~shared.github.client.GitHubClient` (whose
``request`` they go through, so each draws from the fleet budget): one method
per GitHub operation, each raising :mod:`shared.github.errors` on failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from shared.github.client import GitHubClient
from shared.github.errors import NotFound
from shared.github.models import Repository

__all__ = ["RepositorySettingsAPI"]


def _seg(value: str) -> str:
    return quote(value, safe="")


class RepositorySettingsAPI:
    """The settings requests for repositories of ``client``'s installation."""

    def __init__(self, client: GitHubClient) -> None:
        self._client = client

    def _repo(self, owner: str, repo: str) -> str:
        return f"/repos/{_seg(owner)}/{_seg(repo)}"

    async def _json(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> Any:
        response = await self._client.request(method, url, json=body)
        return response.json() if response.content else None

    # -- repository --------------------------------------------------------------------------

    async def create_from_template(
        self,
        template: str,
        *,
        owner: str,
        name: str,
        description: str | None,
        private: bool,
    ) -> Repository:
        """``POST /repos/{template}/generate``: GitHub fills the new repository later."""
        template_owner, _, template_repo = template.partition("/")
        body: dict[str, Any] = {"owner": owner, "name": name, "private": private}
        if description:
            body["description"] = description
        url = f"{self._repo(template_owner, template_repo)}/generate"
        return Repository.from_json(await self._json("POST", url, body))

    async def update_repository(
        self, owner: str, repo: str, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``PATCH /repos/{owner}/{repo}`` with ``fields``; the repository as GitHub answers."""
        data = await self._json("PATCH", self._repo(owner, repo), fields)
        return dict(data)

    async def get_repository_json(self, owner: str, repo: str) -> dict[str, Any]:
        """The full repository object (for comparing fields)."""
        return dict(await self._json("GET", self._repo(owner, repo)))

    async def replace_topics(self, owner: str, repo: str, names: Sequence[str]) -> None:
        """``PUT .../topics``: the topics become exactly ``names``."""
        await self._json("PUT", f"{self._repo(owner, repo)}/topics", {"names": list(names)})

    async def get_topics(self, owner: str, repo: str) -> list[str]:
        """The repository's topics."""
        data = await self._json("GET", f"{self._repo(owner, repo)}/topics")
        return [str(n) for n in data.get("names", [])]

    # -- access ------------------------------------------------------------------------------

    async def set_team_permission(
        self, org: str, team: str, owner: str, repo: str, permission: str
    ) -> None:
        """``PUT /orgs/{org}/teams/{team}/repos/{owner}/{repo}``."""
        url = f"/orgs/{_seg(org)}/teams/{_seg(team)}{self._repo(owner, repo)}"
        await self._json("PUT", url, {"permission": permission})

    async def remove_team(self, org: str, team: str, owner: str, repo: str) -> None:
        """``DELETE /orgs/{org}/teams/{team}/repos/{owner}/{repo}``."""
        await self._json("DELETE", f"/orgs/{_seg(org)}/teams/{_seg(team)}{self._repo(owner, repo)}")

    async def team_permissions(self, owner: str, repo: str) -> dict[str, str]:
        """Each team with access (slug → its role there)."""
        data = await self._json("GET", f"{self._repo(owner, repo)}/teams?per_page=100")
        return {str(t["slug"]): str(t.get("permission", "")) for t in data}

    async def add_collaborator(
        self, owner: str, repo: str, login: str, permission: str
    ) -> Literal["invited", "added"]:
        """``PUT .../collaborators/{login}``: ``invited`` (201) or ``added`` (204)."""
        url = f"{self._repo(owner, repo)}/collaborators/{_seg(login)}"
        response = await self._client.request("PUT", url, json={"permission": permission})
        return "invited" if response.status_code == 201 else "added"

    async def remove_collaborator(self, owner: str, repo: str, login: str) -> None:
        """``DELETE .../collaborators/{login}``."""
        await self._json("DELETE", f"{self._repo(owner, repo)}/collaborators/{_seg(login)}")

    async def collaborator_permissions(self, owner: str, repo: str) -> dict[str, str]:
        """Direct collaborators and pending invitations (login, lower-case → role)."""
        base = self._repo(owner, repo)
        people = await self._json("GET", f"{base}/collaborators?affiliation=direct&per_page=100")
        found = {str(p["login"]).lower(): str(p.get("role_name", "")) for p in people}
        for invite in await self._json("GET", f"{base}/invitations?per_page=100"):
            login = str((invite.get("invitee") or {}).get("login", "")).lower()
            found.setdefault(login, str(invite.get("permissions", "")))
        return found

    # -- Actions variables -------------------------------------------------------------------

    async def create_variable(self, owner: str, repo: str, name: str, value: str) -> None:
        """``POST .../actions/variables`` (409 when it exists)."""
        url = f"{self._repo(owner, repo)}/actions/variables"
        await self._json("POST", url, {"name": name, "value": value})

    async def update_variable(self, owner: str, repo: str, name: str, value: str) -> None:
        """``PATCH .../actions/variables/{name}``."""
        url = f"{self._repo(owner, repo)}/actions/variables/{_seg(name)}"
        await self._json("PATCH", url, {"name": name, "value": value})

    async def delete_variable(self, owner: str, repo: str, name: str) -> None:
        """``DELETE .../actions/variables/{name}``."""
        await self._json("DELETE", f"{self._repo(owner, repo)}/actions/variables/{_seg(name)}")

    async def get_variable(self, owner: str, repo: str, name: str) -> str | None:
        """A variable's value, or ``None`` when it does not exist."""
        try:
            data = await self._json(
                "GET", f"{self._repo(owner, repo)}/actions/variables/{_seg(name)}"
            )
        except NotFound:
            return None
        return str(data["value"])

    # -- rulesets ----------------------------------------------------------------------------

    async def app_id(self) -> int | None:
        """The App's numeric id, a ruleset's bypass actor (the client's installation: no
        request once the client has found it)."""
        return (await self._client.installation()).app_id

    async def create_ruleset(self, owner: str, repo: str, ruleset: Mapping[str, Any]) -> int:
        """``POST .../rulesets``; the new ruleset's id."""
        data = await self._json("POST", f"{self._repo(owner, repo)}/rulesets", ruleset)
        return int(data["id"])

    async def update_ruleset(
        self, owner: str, repo: str, ruleset_id: int, ruleset: Mapping[str, Any]
    ) -> None:
        """``PUT .../rulesets/{id}``."""
        await self._json("PUT", f"{self._repo(owner, repo)}/rulesets/{ruleset_id}", ruleset)

    async def delete_ruleset(self, owner: str, repo: str, ruleset_id: int) -> None:
        """``DELETE .../rulesets/{id}``."""
        await self._json("DELETE", f"{self._repo(owner, repo)}/rulesets/{ruleset_id}")

    async def ruleset_ids(self, owner: str, repo: str) -> dict[str, int]:
        """The repository's own rulesets, name → id."""
        data = await self._json(
            "GET", f"{self._repo(owner, repo)}/rulesets?includes_parents=false&per_page=100"
        )
        return {str(r["name"]): int(r["id"]) for r in data}

    async def get_ruleset(self, owner: str, repo: str, ruleset_id: int) -> dict[str, Any] | None:
        """A ruleset in full, or ``None`` when it does not exist."""
        try:
            return dict(await self._json("GET", f"{self._repo(owner, repo)}/rulesets/{ruleset_id}"))
        except NotFound:
            return None

    # -- environments and custom properties --------------------------------------------------

    async def put_environment(
        self, owner: str, repo: str, name: str, body: Mapping[str, Any]
    ) -> None:
        """``PUT .../environments/{name}``: creates or updates."""
        await self._json("PUT", f"{self._repo(owner, repo)}/environments/{_seg(name)}", body)

    async def delete_environment(self, owner: str, repo: str, name: str) -> None:
        """``DELETE .../environments/{name}``."""
        await self._json("DELETE", f"{self._repo(owner, repo)}/environments/{_seg(name)}")

    async def get_environment(self, owner: str, repo: str, name: str) -> dict[str, Any] | None:
        """An environment, or ``None`` when it does not exist."""
        try:
            return dict(
                await self._json("GET", f"{self._repo(owner, repo)}/environments/{_seg(name)}")
            )
        except NotFound:
            return None

    async def set_custom_properties(
        self, owner: str, repo: str, values: Mapping[str, str | list[str]]
    ) -> None:
        """``PATCH .../properties/values``."""
        body = {"properties": [{"property_name": k, "value": v} for k, v in values.items()]}
        await self._json("PATCH", f"{self._repo(owner, repo)}/properties/values", body)

    async def get_custom_properties(self, owner: str, repo: str) -> dict[str, Any]:
        """The repository's custom property values."""
        data = await self._json("GET", f"{self._repo(owner, repo)}/properties/values")
        return {str(p["property_name"]): p.get("value") for p in data}

"""The GitHub App client: one HTTP connection pool, App JWT, installation tokens, operations.

Every method raises a :mod:`shared.github.errors` error on failure. Requests go
through :class:`~shared.github.transport.Transport` (the budget gate and quick
retries of 5xx answers and broken connections); beyond that, nothing here
retries except to recover credentials, once each: a rejected App JWT (401) is
signed again; a rejected cached token (401) is minted again; an installation
GitHub no longer knows (the token mint answering 404/401, or a fresh token
answering 401: the App was reinstalled, with a new id) is found again. The
caller decides how to back off from what is still transient.
"""

from __future__ import annotations

import asyncio
import time
from base64 import b64encode
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from shared.github.app_jwt import AppJWT
from shared.github.config import GitHubConfig
from shared.github.errors import (
    Forbidden,
    GitHubConfigError,
    GitHubTransportError,
    NotFound,
    Unauthorized,
    ValidationFailed,
    error_from_response,
)
from shared.github.models import ActionsPublicKey, Installation, RepoFile, Repository
from shared.github.sealed_box import seal_secret
from shared.github.token_cache import InstallationToken, TokenCache
from shared.github.transport import TRIES, RequestGate, RequestObserver, RetryPolicy, Transport

__all__ = ["GitHubClient"]

_log = structlog.get_logger(__name__)

Auth = Literal["app", "installation"]


def _seg(value: str) -> str:
    """One URL path segment, escaped."""
    return quote(value, safe="")


class GitHubClient:
    """Talks to GitHub as one App installation.

    ``gate``: the request budget shared by the fleet (default: none); ``retry``:
    quick retries of one request; ``transport`` lets tests route requests
    in-process; ``clock`` is epoch seconds (token and JWT lifetimes); ``sleep``
    waits between retries; ``max_wait_s``: how long a request may wait for the
    budget before :class:`~shared.github.errors.WaitForBudget` is raised;
    ``observe`` is told of every try (metrics).
    """

    def __init__(
        self,
        config: GitHubConfig,
        *,
        gate: RequestGate | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait_s: float = 5.0,
        observe: RequestObserver | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._transport = Transport(
            config,
            gate=gate,
            retry=retry,
            transport=transport,
            sleep=sleep,
            max_wait_s=max_wait_s,
            observe=observe,
        )
        self._jwt = AppJWT(config.app_id, config.private_key, clock=clock)
        self._installation: Installation | None = None
        self._installation_lock = asyncio.Lock()
        self._tokens = TokenCache(self._mint_cached_token, clock=clock)
        self._public_keys: dict[str, ActionsPublicKey] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        auth: Auth = "installation",
        token: str | None = None,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request and return the 2xx/3xx answer, or raise the typed error.

        ``auth="app"`` signs with the App JWT; ``"installation"`` uses the cached
        installation token (or ``token`` when given), re-minting it once on 401.
        """
        send = partial(self._transport.send, method, url, json=json, params=params)
        if auth == "app":  # App-level calls create no repository content
            response = await send(bearer=self._jwt(), app_level=True)
            if response.status_code == 401:
                _log.info("github.jwt_rejected", method=method, path=response.request.url.path)
                response = await send(bearer=self._jwt.refresh(), app_level=True)
        elif token is not None:
            response = await send(bearer=token)
        else:
            cached = await self._tokens.get()
            response = await send(bearer=cached.token)
            if response.status_code == 401:
                _log.info("github.token_rejected", method=method, path=response.request.url.path)
                self._tokens.invalidate(cached)
                fresh = await self._tokens.get()
                response = await send(bearer=fresh.token)
                if response.status_code == 401:  # even a fresh token: a new installation?
                    await self._forget_installation(None)
                    self._tokens.invalidate(fresh)
                    response = await send(bearer=(await self._tokens.get()).token)
        if response.status_code >= 400:
            error = error_from_response(response, now=self._clock())
            error.after_retries = response.extensions.get(TRIES, 1) > 1
            if isinstance(error, Forbidden) and auth == "installation" and token is None:
                self._tokens.invalidate(None)  # a token keeps its permissions: mint anew next
            raise error
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise GitHubTransportError(
                f"{response.request.method} {response.request.url.path}: answer is not JSON"
            ) from exc

    # -- the App and its installation --------------------------------------------------------

    async def installation(self) -> Installation:
        """The organization installation to work in, found once and cached.

        ``GITHUB_ORG`` picks it when set; otherwise the App must have exactly one
        installation on an organization.
        """
        if self._installation is not None:
            return self._installation
        async with self._installation_lock:
            if self._installation is None:
                self._installation = await self._find_installation()
                _log.info(
                    "github.installation",
                    installation_id=self._installation.id,
                    org=self._installation.account_login,
                )
            return self._installation

    async def _forget_installation(self, stale: Installation | None) -> None:
        """Find the installation again on next use (only if it is still ``stale``, when
        given): the App may have been reinstalled, under a new id."""
        async with self._installation_lock:
            if self._installation is not None and (stale is None or self._installation is stale):
                _log.warning("github.installation_lost", installation_id=self._installation.id)
                self._installation = None
                self._tokens.invalidate()

    async def _find_installation(self) -> Installation:
        org = self._config.org
        if org:
            try:
                response = await self.request("GET", f"/orgs/{_seg(org)}/installation", auth="app")
            except NotFound:
                raise GitHubConfigError(
                    f"the GitHub App is not installed on organization {org!r} (GITHUB_ORG)"
                ) from None
            return Installation.from_json(self._json(response))
        found = [i for i in await self._all_installations() if i.account_type == "Organization"]
        if len(found) == 1:
            return found[0]
        if not found:
            raise GitHubConfigError(
                "the GitHub App has no installation on an organization: "
                "install it on one, or set GITHUB_ORG"
            )
        names = ", ".join(sorted(i.account_login for i in found))
        raise GitHubConfigError(
            f"the GitHub App is installed on several organizations ({names}): "
            "set GITHUB_ORG to the one to use"
        )

    async def _all_installations(self) -> list[Installation]:
        url: str | None = "/app/installations"
        params: dict[str, Any] | None = {"per_page": 100}
        found: list[Installation] = []
        while url is not None:
            response = await self.request("GET", url, auth="app", params=params)
            found.extend(Installation.from_json(item) for item in self._json(response))
            url = response.links.get("next", {}).get("url")
            params = None  # the next link carries them
        return found

    async def _mint(
        self,
        *,
        repositories: Sequence[str] | None = None,
        repository_ids: Sequence[int] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> InstallationToken:
        installation = await self.installation()
        body: dict[str, Any] = {}
        if repositories is not None:
            body["repositories"] = list(repositories)
        if repository_ids is not None:
            body["repository_ids"] = [int(i) for i in repository_ids]
        if permissions is not None:
            body["permissions"] = dict(permissions)
        try:
            response = await self._post_access_token(installation, body)
        except (NotFound, Unauthorized):
            await self._forget_installation(installation)
            response = await self._post_access_token(await self.installation(), body)
        data = self._json(response)
        repos = data.get("repositories")
        return InstallationToken(
            token=str(data["token"]),
            expires_at=datetime.fromisoformat(str(data["expires_at"]).replace("Z", "+00:00")),
            permissions=dict(data.get("permissions") or {}),
            repositories=tuple(str(r["name"]) for r in repos) if repos is not None else None,
        )

    async def _post_access_token(
        self, installation: Installation, body: Mapping[str, Any]
    ) -> httpx.Response:
        return await self.request(
            "POST",
            f"/app/installations/{installation.id}/access_tokens",
            auth="app",
            json=body or None,
        )

    async def _mint_cached_token(self) -> InstallationToken:
        token = await self._mint()
        _log.info("github.token_minted", expires_at=token.expires_at.isoformat())
        return token

    async def installation_token(self) -> InstallationToken:
        """The shared installation token, minted when the cached one nears expiry."""
        return await self._tokens.get()

    async def mint_token(
        self,
        *,
        repositories: Sequence[str] | None = None,
        repository_ids: Sequence[int] | None = None,
        permissions: Mapping[str, str],
    ) -> InstallationToken:
        """A fresh token narrowed to ``repository_ids`` (GitHub's ids: a renamed or
        re-created repository of the same name is not reached) or ``repositories``
        (names), and to ``permissions``; never cached."""
        if not repositories and not repository_ids:
            raise ValueError("name the repositories the token is narrowed to")
        return await self._mint(
            repositories=repositories, repository_ids=repository_ids, permissions=permissions
        )

    # -- repositories ------------------------------------------------------------------------

    async def create_org_repository(
        self,
        org: str,
        name: str,
        *,
        description: str | None = None,
        private: bool = True,
        fields: Mapping[str, Any] | None = None,
    ) -> Repository:
        """Create a repository in ``org``; GitHub may change ``name`` (see the answer).

        ``fields``: more of the create request (visibility, homepage, features...).
        """
        body: dict[str, Any] = {"name": name, "private": private}
        if description:
            body["description"] = description
        if fields:
            body.update(fields)
            if "visibility" in fields:
                body.pop("private")
        response = await self.request("POST", f"/orgs/{_seg(org)}/repos", json=body)
        return Repository.from_json(self._json(response))

    async def get_repository(self, owner: str, name: str) -> Repository:
        """The repository, or :class:`NotFound`."""
        response = await self.request("GET", f"/repos/{_seg(owner)}/{_seg(name)}")
        return Repository.from_json(self._json(response))

    async def get_file(self, owner: str, repo: str, path: str) -> RepoFile | None:
        """A file's content and blob sha, or ``None`` when it (or the branch) does not exist.

        A missing repository raises :class:`NotFound` like any other 404 would if
        GitHub told the two apart; it does not, so callers that know the
        repository exists treat ``None`` as "no such file".
        """
        url = f"/repos/{_seg(owner)}/{_seg(repo)}/contents/{quote(path)}"
        try:
            response = await self.request("GET", url)
        except NotFound:
            return None
        data = self._json(response)
        if not isinstance(data, Mapping) or data.get("type") != "file":
            raise ValidationFailed(f"{path} is not a file", status=200, method="GET", path=url)
        return RepoFile.from_json(data)

    async def put_file(
        self,
        owner: str,
        repo: str,
        path: str,
        *,
        content: bytes,
        message: str,
        sha: str | None = None,
    ) -> str:
        """Create (no ``sha``) or update (the current blob ``sha``) a file: one commit.

        Returns the new blob sha.
        """
        body: dict[str, Any] = {"message": message, "content": b64encode(content).decode()}
        if sha is not None:
            body["sha"] = sha
        url = f"/repos/{_seg(owner)}/{_seg(repo)}/contents/{quote(path)}"
        response = await self.request("PUT", url, json=body)
        return str(self._json(response)["content"]["sha"])

    # -- Actions secrets ---------------------------------------------------------------------

    async def get_actions_public_key(
        self, owner: str, repo: str, *, refresh: bool = False
    ) -> ActionsPublicKey:
        """The repository's secrets key, cached per repository."""
        cache_key = f"{owner}/{repo}".lower()
        cached = self._public_keys.get(cache_key)
        if cached is not None and not refresh:
            return cached
        url = f"/repos/{_seg(owner)}/{_seg(repo)}/actions/secrets/public-key"
        data = self._json(await self.request("GET", url))
        key = ActionsPublicKey(key_id=str(data["key_id"]), key=str(data["key"]))
        self._public_keys[cache_key] = key
        return key

    def remember_public_key(self, owner: str, repo: str, key: ActionsPublicKey) -> None:
        """Use ``key`` (read earlier, e.g. by another process) as the repository's secrets key."""
        self._public_keys[f"{owner}/{repo}".lower()] = key

    async def set_actions_secret(self, owner: str, repo: str, name: str, value: SecretStr) -> None:
        """Seal ``value`` with the repository's key and store it as secret ``name``.

        If GitHub refuses a value sealed with a cached key (422: the key may have
        been rotated), the key is fetched again and the secret sent once more.
        """
        url = f"/repos/{_seg(owner)}/{_seg(repo)}/actions/secrets/{_seg(name)}"
        was_cached = f"{owner}/{repo}".lower() in self._public_keys
        key = await self.get_actions_public_key(owner, repo)
        try:
            await self._put_sealed(url, key, value)
        except ValidationFailed:
            if not was_cached:
                raise
            _log.info("github.secret_key_refresh", repo=f"{owner}/{repo}", secret=name)
            key = await self.get_actions_public_key(owner, repo, refresh=True)
            await self._put_sealed(url, key, value)

    async def _put_sealed(self, url: str, key: ActionsPublicKey, value: SecretStr) -> None:
        sealed = seal_secret(key.key, value.get_secret_value())  # the only place it is read
        body = {"encrypted_value": sealed, "key_id": key.key_id}
        await self.request("PUT", url, json=body)

    async def check_credentials(self) -> None:
        """Raise :class:`Unauthorized` or :class:`GitHubConfigError` if the App cannot work."""
        await self.request("GET", "/app", auth="app")
        await self.installation()

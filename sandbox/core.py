"""``GitHubSandbox``: a stateful, strict simulator of the GitHub REST endpoints we use."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sandbox.admin import admin_routes
from sandbox.drift import Drift
from sandbox.faults import FailRule, Faults, Injector
from sandbox.models import Account, Installation, Organization, RequestRecord, SandboxRepository
from sandbox.names import normalize_repo_name
from sandbox.pipeline import Incoming, Outcome, Pipeline
from sandbox.seeding import Seeding
from sandbox.state import DEFAULT_PERMISSIONS, SandboxState
from sandbox.stats import LimitStats

__all__ = ["ConnectionDropped", "GitHubSandbox"]


class ConnectionDropped(ConnectionResetError):
    """Raised inside the ASGI app to abort a response (fault ``drop``)."""


class GitHubSandbox(Seeding, Drift):
    """Our own GitHub: App auth, repositories and their settings, contents, Actions secrets
    and variables, access, protection, rate limits, faults.

    ``app_public_key_pem``: the App's public key (PEM bytes or key object) that App JWTs
    must be signed for. ``clock``: the sandbox's time (tests pass a fake one to expire
    tokens). ``web_url``: base of ``html_url``/``clone_url``. ``validate_requests``: check
    each request against GitHub's OpenAPI description. ``seed``: seeds ids and faults.
    ``rate_limit``: primary requests per hour per installation. ``faults``: initial fault
    and secondary-limit settings (``Faults.github_limits()`` for GitHub's). ``sleep``:
    how ``faults.latency_s`` is waited (tests pass one they control).
    """

    def __init__(
        self,
        app_id: int,
        app_public_key_pem: bytes | RSAPublicKey,
        *,
        clock: Callable[[], float] = time.time,
        web_url: str = "https://github.com",
        validate_requests: bool = True,
        seed: int = 0,
        app_slug: str = "provisioner-sandbox",
        rate_limit: int = 5000,
        faults: Faults | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if isinstance(app_public_key_pem, bytes):
            key = serialization.load_pem_public_key(app_public_key_pem)
            if not isinstance(key, RSAPublicKey):
                raise TypeError("the App key must be an RSA public key")
            app_public_key_pem = key
        self._state = SandboxState(
            app_id=app_id, app_slug=app_slug, clock=clock, seed=seed, rate_limit=rate_limit
        )
        self._injector = Injector(faults or Faults(), seed)
        self._sleep = sleep
        self._pipeline = Pipeline(
            self._state,
            self._injector,
            web_url=web_url.rstrip("/"),
            validate=validate_requests,
            public_key=app_public_key_pem,
        )
        self.app = Starlette(
            routes=[*admin_routes(self), Route("/{path:path}", _RawEndpoint(self._asgi))]
        )

    # --- set-up -------------------------------------------------------------------------

    @property
    def app_id(self) -> int:
        """The App's id (the ``iss`` of its JWTs)."""
        return self._state.app_id

    @property
    def client_id(self) -> str:
        """The App's client id (also accepted as ``iss``)."""
        return self._state.client_id

    @property
    def faults(self) -> Faults:
        """Fault settings; change fields at any time."""
        return self._injector.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._injector.faults = value

    @property
    def rate_limit(self) -> int:
        """Primary requests per hour per installation (GitHub: 5000)."""
        return self._state.limiter.limit

    @rate_limit.setter
    def rate_limit(self, value: int) -> None:
        self._state.limiter.limit = value

    def add_installation(
        self,
        account_login: str,
        account_type: str = "Organization",
        permissions: dict[str, str] | None = None,
    ) -> int:
        """Install the App on an account; returns the installation id.

        ``permissions`` default: ``sandbox.state.DEFAULT_PERMISSIONS`` (all provisioning
        uses: administration, contents, secrets, actions_variables, custom properties...).
        """
        with self._state.lock:
            return self._state.add_installation(
                account_login, account_type, dict(permissions or DEFAULT_PERMISSIONS)
            )

    def remove_installation(self, installation_id: int) -> None:
        """Uninstall the App from that account: the installation's id and its tokens are
        gone (GitHub answers 404 and 401); installing again gives a new id."""
        with self._state.lock:
            self._state.installations.pop(installation_id, None)
            self._state.tokens.revoke_installation(installation_id)

    @property
    def installation_ids(self) -> list[int]:
        """The ids of every installation, oldest first."""
        with self._state.lock:
            return list(self._state.installations)

    def installation(self, installation_id: int) -> Installation | None:
        """An installation by id."""
        return self._state.installations.get(installation_id)

    def add_repository(
        self,
        owner: str,
        name: str,
        files: dict[str, str] | None = None,
        private: bool = True,
        *,
        is_template: bool = False,
    ) -> SandboxRepository:
        """A repository that exists beforehand (ours from an earlier run, foreign, a template).

        ``files`` (path → text) become one commit each. Not subject to ``post_create_404_s``.
        """
        changed, problem = normalize_repo_name(name)
        if problem or changed != name:
            raise ValueError(f"invalid repository name {name!r}")
        with self._state.lock:
            if self._state.repository(owner, name) is not None:
                raise ValueError(f"{owner}/{name} exists already")
            settings = {"is_template": True} if is_template else None
            repo = self._state.create_repository(owner, name, private=private, settings=settings)
            for path, text in (files or {}).items():
                self._state.commit_file(
                    repo, path, text.encode(), f"Add {path}", self._state.bot_author()
                )
            return repo

    # --- inspection ---------------------------------------------------------------------

    def repository(self, owner: str, name: str) -> SandboxRepository | None:
        """The repository ``owner/name`` (case-insensitive), or None."""
        with self._state.lock:
            self._state.settle()
            return self._state.repository(owner, name)

    def organization(self, login: str) -> Organization:
        """What the sandbox knows of organization ``login``: teams, schema, members."""
        with self._state.lock:
            return self._state.org(login)

    def user(self, login: str) -> Account | None:
        """The seeded user ``login`` (case-insensitive), or None."""
        with self._state.lock:
            return self._state.user(login)

    @property
    def repositories(self) -> list[SandboxRepository]:
        """Every repository, in creation order."""
        with self._state.lock:
            self._state.settle()
            return list(self._state.repos.values())

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request received, oldest first (status 0: the connection was dropped)."""
        with self._state.lock:
            return list(self._pipeline.records)

    def count(self, method: str | None = None, path_regex: str | None = None) -> int:
        """How many requests had ``method`` and a path where ``path_regex`` is found (search)."""
        pattern = re.compile(path_regex) if path_regex is not None else None
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (pattern is None or pattern.search(r.path))
        )

    def reset_requests(self) -> None:
        """Forget the recorded requests (not the spec violations)."""
        with self._state.lock:
            self._pipeline.records.clear()

    @property
    def spec_violations(self) -> list[str]:
        """Readable descriptions of requests that broke GitHub's OpenAPI description."""
        return self._pipeline.violations

    @property
    def stats(self) -> LimitStats:
        """A snapshot of the rate-limit counters (also ``GET /_sandbox/stats``)."""
        with self._state.lock:
            return self._state.limits.stats.copy()

    def reset_stats(self) -> None:
        """Start the rate-limit counters again (also ``POST /_sandbox/stats/reset``)."""
        with self._state.lock:
            self._state.limits.reset_stats()

    @property
    def tokens_issued(self) -> int:
        """How many installation tokens were issued."""
        return self._state.tokens.issued

    def revoke_tokens(self) -> None:
        """Make every installation token issued so far answer 401."""
        with self._state.lock:
            self._state.tokens.revoke_all()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 502,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        drop: bool = False,
    ) -> None:
        """Fail the next ``times`` requests with ``method`` and ``path_regex`` found in the path.

        They answer ``status`` with ``headers`` and ``body`` (default: a GitHub-like error
        body), or drop the connection when ``drop``; nothing else is done for them.
        """
        rule = FailRule(
            method, re.compile(path_regex), status, times, dict(headers or {}), body, drop
        )
        with self._state.lock:
            self._injector.fail_next(rule)

    def clear_failures(self) -> None:
        """Drop every ``fail_next`` rule not used up yet."""
        with self._state.lock:
            self._injector.clear()

    # --- ASGI ---------------------------------------------------------------------------

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host") or "%s:%s" % tuple(scope.get("server") or ("localhost", 80))  # noqa: UP031
        incoming = Incoming(
            method=scope["method"].upper(),
            path=scope["path"],
            query=_query(scope.get("query_string", b"")),
            headers=headers,
            body=body,
            base_url=f"{scope.get('scheme', 'http')}://{host}",
        )
        with self._state.lock:
            outcome = self._pipeline.handle(incoming)
        try:
            await self._answer(outcome, send)
        finally:
            if outcome.flight_key is not None:
                with self._state.lock:
                    self._pipeline.land(outcome.flight_key)

    async def _answer(self, outcome: Outcome, send: Send) -> None:
        if self.faults.latency_s > 0:
            await self._sleep(self.faults.latency_s)
        raw_headers = [(k.encode(), v.encode()) for k, v in outcome.headers.items()]
        if outcome.drop:
            raw_headers.append((b"content-length", b"1000"))
            await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
            raise ConnectionDropped("sandbox fault: connection dropped")
        raw_headers.append((b"content-length", str(len(outcome.body)).encode()))
        await send(
            {"type": "http.response.start", "status": outcome.status, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": outcome.body})


class _RawEndpoint:
    """Wraps a coroutine so Starlette treats it as a raw ASGI app (needed to drop)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _query(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True)

"""Sending one logical request to GitHub: through the budget gate, retried on blips.

Each try first asks the :class:`RequestGate` for a permit (the fleet-wide
budget: write windows, in-flight slots, pauses) and hands it back with the
answer's headers, so every process learns from every response. A 5xx answer
or a broken connection is tried again up to :attr:`RetryPolicy.tries` times
with jittered backoff (octokit's retry plugin does the same); each try draws
from the budget again. Nothing else is retried here: 4xx answers, rate
limits included, go back to the caller as they are.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from shared.github.config import GitHubConfig
from shared.github.endpoints import endpoint_of
from shared.github.errors import GitHubTransportError, is_rate_limited

__all__ = [
    "API_VERSION",
    "TRIES",
    "NoGate",
    "RequestGate",
    "RequestObserver",
    "RetryPolicy",
    "Transport",
]

TRIES = "provisioner.tries"
"""``response.extensions`` key: how many tries the answer took (earlier ones got no answer
or a 5xx: a POST among them may have done its work)."""

RequestObserver = Callable[[str, str, int | None, float], None]
"""Told of every try: method, endpoint template, status (``None``: no answer), seconds."""

API_VERSION = "2022-11-28"
_log = structlog.get_logger(__name__)


class RequestGate(Protocol):
    """What the client needs from a request budget (``shared.budget`` provides one)."""

    async def acquire(self, method: str, *, max_wait_s: float) -> Any:
        """A permit to send one ``method`` request, waiting at most ``max_wait_s``;
        raises :class:`~shared.github.errors.WaitForBudget` when that is not enough."""

    async def release(
        self,
        permit: Any,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
    ) -> None:
        """Give ``permit`` back with the answer (``None`` when none came);
        ``rate_limited``: whether the answer is a rate limit (read from its body too)."""


class NoGate:
    """A gate that grants everything at once: a single process with no fleet to share with."""

    async def acquire(self, method: str, *, max_wait_s: float) -> None:
        """Granted."""

    async def release(
        self,
        permit: Any,
        response_headers: Mapping[str, str] | None,
        status: int | None,
        *,
        rate_limited: bool | None = None,
    ) -> None:
        """Nothing to give back."""


@dataclass(frozen=True)
class RetryPolicy:
    """Quick retries of one request after a 5xx or a broken connection.

    ``tries`` in all (the first included); the wait before try ``n + 1`` is uniform
    in ``[first_s·2^(n-1) / 2, first_s·2^(n-1)]``, capped at ``cap_s``.
    """

    tries: int = 3
    first_s: float = 1.0
    cap_s: float = 4.0

    def delay(self, failed_tries: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``failed_tries`` tries failed."""
        ceiling = min(self.cap_s, self.first_s * 2 ** max(0, failed_tries - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


class Transport:
    """The connection pool, the gate and the retry policy behind every request."""

    def __init__(
        self,
        config: GitHubConfig,
        *,
        gate: RequestGate | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait_s: float = 5.0,
        observe: RequestObserver | None = None,
    ) -> None:
        self.gate: RequestGate = gate or NoGate()
        self._releases: set[asyncio.Future[None]] = set()
        self._observe = observe
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._max_wait_s = max_wait_s
        self._http = httpx.AsyncClient(
            base_url=config.api_url,
            headers={
                "User-Agent": config.user_agent,
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            timeout=httpx.Timeout(config.timeout_s, connect=min(5.0, config.timeout_s)),
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Give back what is still held, then close the connection pool."""
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        await self._http.aclose()

    def _released(self, task: asyncio.Future[None]) -> None:
        self._releases.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.warning("github.budget_release_failed", error=repr(task.exception()))

    async def send(
        self,
        method: str,
        url: str,
        *,
        bearer: str,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        app_level: bool = False,
    ) -> httpx.Response:
        """The answer to one request (any status), after up to ``retry.tries`` tries.

        ``app_level`` (calls signed with the App's JWT, such as minting a token): they
        create no content, so a POST takes an in-flight slot, not a write slot, and
        their rate-limit headers (the App's own bucket) are not the installation's.

        Raises :class:`GitHubTransportError` when the last try got no answer, and
        whatever the gate raises when the budget cannot serve the request in time.
        """
        for tried in range(1, self.retry.tries + 1):
            last = tried == self.retry.tries
            try:
                response = await self._gated(
                    method,
                    url,
                    bearer=bearer,
                    json=json,
                    params=params,
                    app_level=app_level,
                )
            except GitHubTransportError:
                if last:
                    raise
                reason: int | str = "no answer"
            else:
                if response.status_code < 500 or last:
                    response.extensions[TRIES] = tried
                    return response
                reason = response.status_code
            wait = self.retry.delay(tried)
            _log.info(
                "github.retrying", method=method, url=url, reason=reason, wait_s=round(wait, 2)
            )
            await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _gated(
        self,
        method: str,
        url: str,
        *,
        bearer: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        app_level: bool,
    ) -> httpx.Response:
        permit = await self.gate.acquire(
            "GET" if app_level else method, max_wait_s=self._max_wait_s
        )
        response: httpx.Response | None = None
        try:
            response = await self._send_once(method, url, bearer=bearer, json=json, params=params)
            return response
        finally:  # a request that got no answer may still have reached GitHub: it counts
            headers = dict(response.headers) if response is not None and not app_level else None
            status = response.status_code if response is not None else None
            limited = is_rate_limited(response, now=time.time()) if response is not None else None
            release = self.gate.release(permit, headers, status, rate_limited=limited)
            if limited:  # the fleet must pause before anyone here sends again
                await asyncio.shield(release)
            else:  # off the request's path; aclose() waits for what is left
                task = asyncio.ensure_future(release)
                self._releases.add(task)
                task.add_done_callback(self._released)

    async def _send_once(
        self,
        method: str,
        url: str,
        *,
        bearer: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {bearer}"},
            )
        except httpx.TransportError as exc:
            _log.warning("github.transport_error", method=method, url=url, error=repr(exc))
            self._observed(method, url, None, started)
            raise GitHubTransportError(f"{method} {url}: {type(exc).__name__}") from exc
        self._observed(method, url, response.status_code, started)
        _log.debug(
            "github.request",
            method=method,
            path=response.request.url.path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1),
            ratelimit_remaining=response.headers.get("x-ratelimit-remaining"),
        )
        return response

    def _observed(self, method: str, url: str, status: int | None, started: float) -> None:
        if self._observe is not None:
            self._observe(method, endpoint_of(url), status, time.perf_counter() - started)

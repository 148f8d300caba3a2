"""The checks every request goes through, in GitHub's order, before and around its handler.

Order: one-shot and random faults (nothing changes), User-Agent, API version, JSON
parsing, routing, spec validation (recorded), authentication, primary and secondary rate
limits, the 422 for a spec violation, then the handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.app_jwt import looks_like_jwt, verify_app_jwt
from sandbox.context import Ctx, Reply
from sandbox.errors import DOCS, GitHubError, bad_credentials, invalid_request, not_accessible
from sandbox.faults import Injector
from sandbox.handlers import HANDLERS, UNIMPLEMENTED, Handler
from sandbox.models import RequestRecord
from sandbox.ratelimit import RateWindow
from sandbox.spec import match_route, request_violation
from sandbox.state import SandboxState

__all__ = ["API_VERSIONS", "Incoming", "Outcome", "Pipeline"]

API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})
_RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {}."
)


@dataclass(frozen=True)
class Incoming:
    """A request as received: ``headers`` with lower-case names, ``base_url`` without slash."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    base_url: str


@dataclass
class Outcome:
    """The answer to send, or ``drop`` to abort the connection after the status line."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False


class Pipeline:
    """Turns an :class:`Incoming` into an :class:`Outcome`, recording both."""

    def __init__(
        self,
        state: SandboxState,
        injector: Injector,
        *,
        web_url: str,
        validate: bool,
        public_key: Any,
    ) -> None:
        self.state = state
        self.injector = injector
        self.web_url = web_url
        self.validate = validate
        self.public_key = public_key
        self.records: list[RequestRecord] = []
        self.violations: list[str] = []

    def handle(self, req: Incoming) -> Outcome:
        """Answer one request (call with ``state.lock`` held)."""
        request_id = f"5A1D:{len(self.records):06X}"
        parsed: Any = None
        trace = _Trace()
        try:
            parsed = json.loads(req.body) if req.body.strip() else None
        except ValueError:
            parsed = _UNPARSABLE
        injection = self.injector.pick(req.method, req.path)
        if injection is not None:
            body = json.dumps(injection.body).encode() if injection.body is not None else b""
            outcome = Outcome(injection.status, dict(injection.headers), body, injection.drop)
        else:
            try:
                reply = self._serve(req, parsed, trace)
                outcome = _encode(reply.status, reply.body, reply.headers)
            except GitHubError as err:
                outcome = _encode(err.status, err.body, err.headers)
            if trace.window is not None:
                outcome.headers = {**trace.window.headers(), **outcome.headers}
        outcome.headers["x-github-request-id"] = request_id
        outcome.headers.setdefault("x-github-media-type", "github.v3; format=json")
        outcome.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        self._record(req, parsed, outcome, trace.ctx)
        return outcome

    def _serve(self, req: Incoming, parsed: Any, trace: _Trace) -> Reply:
        if not req.headers.get("user-agent"):
            raise GitHubError(
                403,
                "Request forbidden by administrative rules. Please make sure your request has "
                "a User-Agent header (https://docs.github.com/en/rest/overview/"
                "resources-in-the-rest-api#user-agent-required). Check "
                "https://developer.github.com for other possible causes.",
            )
        version = req.headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            raise GitHubError(
                400,
                f"API version {version} is not supported.",
                documentation_url="https://docs.github.com/rest/about-the-rest-api/api-versions",
            )
        if parsed is _UNPARSABLE:
            self.violations.append(f"{req.method} {req.path}: body is not JSON")
            raise GitHubError(400, "Problems parsing JSON")
        route, params = match_route(req.method, req.path)
        if route is None:
            self.violations.append(f"{req.method} {req.path}: no such operation in the description")
            raise GitHubError(404, "Not Found")
        violation = None
        if self.validate:
            violation = request_violation(route, req.path, params, req.query, req.body or None)
            if violation:
                self.violations.append(f"{req.method} {route.pattern} ({req.path}): {violation}")
        handler = HANDLERS.get(route.operation_id, UNIMPLEMENTED)
        ctx = trace.ctx = self._authenticate(req, handler, route.operation_id, params, parsed)
        if route.operation_id == "rate-limit/get":
            trace.window = self.state.limiter.peek(ctx.rate_key, self.state.clock())
        else:
            self._count(ctx, handler, trace)
        if violation:
            raise invalid_request(violation)
        return handler.run(ctx)

    def _authenticate(
        self, req: Incoming, handler: Handler, operation: str, params: dict[str, str], body: Any
    ) -> Ctx:
        s = self.state
        now = s.clock()
        ctx = Ctx(
            state=s,
            faults=self.injector.faults,
            method=req.method,
            path=req.path,
            params=params,
            query=dict(req.query),
            body=body,
            api=req.base_url,
            web=self.web_url,
            docs=DOCS,
            operation=operation,
            headers=req.headers,
        )
        credential = _credential(req.headers.get("authorization", ""))
        if credential is None:
            raise GitHubError(401, "Requires authentication")
        if looks_like_jwt(credential):
            verify_app_jwt(
                credential, self.public_key, app_id=s.app_id, client_id=s.client_id, now=now
            )
            if handler.auth == "installation" and operation != "rate-limit/get":
                raise not_accessible()
            ctx.rate_key = f"app:{s.app_id}"
            return ctx
        if handler.auth == "app":
            raise GitHubError(401, "A JSON web token could not be decoded")
        token = s.tokens.lookup(credential, now=now)
        if token is None:
            raise bad_credentials()
        ctx.token = token
        ctx.installation = s.installations[token.installation_id]
        ctx.rate_key = f"installation:{token.installation_id}"
        return ctx

    def _count(self, ctx: Ctx, handler: Handler, trace: _Trace) -> None:
        s = self.state
        now = s.clock()
        allowed, trace.window = s.limiter.hit(ctx.rate_key, now)
        who = f"installation ID {ctx.installation.id}" if ctx.installation else f"app ID {s.app_id}"
        if not allowed:
            raise GitHubError(
                403, f"API rate limit exceeded for {who}.", documentation_url=_RATE_DOCS
            )
        per_minute = self.injector.faults.secondary_limit_per_minute
        if handler.content_creating and per_minute is not None:
            wait = s.secondary.hit(ctx.rate_key, now, per_minute)
            if wait is not None:
                raise GitHubError(
                    403,
                    _SECONDARY.format(f"{s.rng.getrandbits(32):08X}"),
                    documentation_url=_RATE_DOCS + "#about-secondary-rate-limits",
                    headers={"retry-after": str(wait)},
                )

    def _record(self, req: Incoming, parsed: Any, outcome: Outcome, ctx: Ctx | None) -> None:
        credential = _credential(req.headers.get("authorization", ""))
        auth = (
            "none"
            if credential is None
            else "jwt"
            if looks_like_jwt(credential)
            else ("installation")
        )
        self.records.append(
            RequestRecord(
                method=req.method,
                path=req.path,
                query=dict(req.query),
                json=None if parsed is _UNPARSABLE else parsed,
                status=0 if outcome.drop else outcome.status,
                auth=auth,
                installation_id=ctx.installation.id if ctx and ctx.installation else None,
                time=self.state.clock(),
            )
        )


_UNPARSABLE = object()


@dataclass
class _Trace:
    """What is known about a request so far, for recording and headers."""

    ctx: Ctx | None = None
    window: RateWindow | None = None


def _credential(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in {"bearer", "token"} or not value.strip():
        return None
    return value.strip()


def _encode(status: int, body: Any, headers: dict[str, str]) -> Outcome:
    out = dict(headers)
    data = b""
    if body is not None and status != 204:
        data = json.dumps(body).encode()
        out["content-type"] = "application/json; charset=utf-8"
    return Outcome(status, out, data)

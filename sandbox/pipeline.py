"""The checks every request goes through, in GitHub's order, before and around its handler.

Order: one-shot and random faults (nothing changes), User-Agent, API version, JSON
parsing, routing, spec validation (recorded), authentication, the concurrency cap,
primary and secondary rate limits (see :mod:`sandbox.limits`), the 422 for a spec
violation, then the handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from sandbox.app_jwt import looks_like_jwt, verify_app_jwt
from sandbox.context import Ctx, Reply
from sandbox.errors import DOCS, GitHubError, bad_credentials, invalid_request, not_accessible
from sandbox.faults import Injector
from sandbox.handlers import HANDLERS, UNIMPLEMENTED, Handler
from sandbox.limits import WRITE_METHODS
from sandbox.models import RequestRecord
from sandbox.ratelimit import RateWindow
from sandbox.spec import body_to_validate, match_route, request_violation
from sandbox.state import SandboxState

__all__ = ["API_VERSIONS", "Incoming", "Outcome", "Pipeline"]

API_VERSIONS = frozenset({"2022-11-28", "2026-03-10"})


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
    """The answer to send, or ``drop`` to abort the connection after the status line.

    ``flight_key``: pass it to :meth:`Pipeline.land` once the answer is sent.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    flight_key: str | None = None


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
        """Answer one request (call with ``state.lock`` held).

        When the answer's ``flight_key`` is set the request counts as in flight until
        :meth:`land` is called with it, after the answer has been sent.
        """
        request_id = f"5A1D:{len(self.records):06X}"
        self.state.settle()
        parsed: Any = None
        trace = _Trace(request_id)
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
            except BaseException:
                if trace.flight_key is not None:
                    self.land(trace.flight_key)
                raise
            if trace.window is not None:
                outcome.headers = {**trace.window.headers(), **outcome.headers}
            outcome.flight_key = trace.flight_key
        outcome.headers["x-github-request-id"] = request_id
        # GitHub dates every answer; ours come from the sandbox's clock (servers run with
        # uvicorn's own Date header off), so tests can put GitHub's time ahead or behind.
        outcome.headers["date"] = formatdate(self.state.clock(), usegmt=True)
        outcome.headers.setdefault("x-github-media-type", "github.v3; format=json")
        outcome.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        self._record(req, parsed, outcome, trace.ctx)
        return outcome

    def land(self, flight_key: str) -> None:
        """The request answered with ``flight_key`` is no longer in flight."""
        self.state.limits.land(flight_key)

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
            checked = body_to_validate(route.operation_id, parsed, req.body)
            violation = request_violation(route, req.path, params, req.query, checked or None)
            if violation:
                self.violations.append(f"{req.method} {route.pattern} ({req.path}): {violation}")
        handler = HANDLERS.get(route.operation_id, UNIMPLEMENTED)
        ctx = trace.ctx = self._authenticate(req, handler, route.operation_id, params, parsed)
        if route.operation_id == "rate-limit/get":
            trace.window = self.state.limiter.peek(ctx.rate_key, self.state.clock())
        else:
            self._count(ctx, trace)
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

    def _count(self, ctx: Ctx, trace: _Trace) -> None:
        s = self.state
        faults = self.injector.faults
        who = f"installation ID {ctx.installation.id}" if ctx.installation else f"app ID {s.app_id}"
        try:
            s.limits.board(ctx.rate_key, faults, trace.request_id)
            trace.flight_key = ctx.rate_key
            trace.window = s.limits.admit(
                ctx.rate_key,
                who=who,
                write=ctx.installation is not None and ctx.method in WRITE_METHODS,
                now=s.clock(),
                faults=faults,
                request_id=trace.request_id,
            )
        except GitHubError:
            trace.window = s.limiter.peek(ctx.rate_key, s.clock())
            raise

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
    """What is known about a request so far, for recording, headers and limits."""

    request_id: str
    ctx: Ctx | None = None
    window: RateWindow | None = None
    flight_key: str | None = None


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

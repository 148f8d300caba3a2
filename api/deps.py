"""Request dependencies and their ``Annotated`` aliases.

``SessionDep`` is the request's unit of work: it commits when the endpoint
succeeds and rolls back when anything raises, before the answer is sent;
the jobs the request added to ``JobsDep`` are enqueued only after that
commit. ``PrincipalDep`` is the caller behind the bearer token (401 without one).
"""

from __future__ import annotations

import email.message
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from arq.connections import ArqRedis
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.changes import ProjectChanges
from api.ops.config import OpsConfig
from api.projects.waiting import LongPolls
from shared.auth import repository as token_repository
from shared.auth.models import TokenRole
from shared.auth.principal import (
    PRINCIPAL_RECHECK_S,
    Principal,
    PrincipalCache,
    UnknownTokens,
    not_authenticated,
)
from shared.budget.budget import GitHubBudget
from shared.crypto import SecretsCipher, hash_api_token
from shared.errors import RequestRejected
from shared.fair_queue import FairQueue
from shared.outbox import PendingJobs
from shared.projects.repo_tokens import RepoTokenMinter
from shared.rate_limits import DEFAULT_LIMITS, AbuseLimits, RateLimiter

__all__ = [
    "CipherDep",
    "JobsDep",
    "JsonBodyDep",
    "PrincipalDep",
    "PrincipalRecheckDep",
    "Resources",
    "ResourcesDep",
    "SessionDep",
    "get_resources",
    "look_up_principal",
]


@dataclass(frozen=True)
class Resources:
    """What the app serves with for its whole life (built by the composition root)."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    fair: FairQueue
    """Where jobs are submitted: per owner, dispatched into ``queue`` round-robin."""
    cipher: SecretsCipher
    changes: ProjectChanges | None = None
    """Wakes long polls; ``None`` means they re-check once a second."""
    tokens: RepoTokenMinter | None = None
    """Mints repository tokens; ``None`` when no GitHub App is configured."""
    budget: GitHubBudget | None = None
    """The fleet's GitHub budget (``GET /api/budget``); ``None`` without a GitHub App."""
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    """Recently seen API tokens, so a long-polling agent costs no query per poll."""
    unknown_tokens: UnknownTokens = field(default_factory=UnknownTokens)
    """Recently refused tokens, so a flood of one bad token costs no query per request."""
    limits: AbuseLimits = DEFAULT_LIMITS
    """The abuse limits (``API_*``)."""
    limiter: RateLimiter | None = None
    """The per-minute limits in Redis; ``None`` enforces none of them."""
    long_polls: LongPolls = field(default_factory=LongPolls)
    """The long polls this process serves now (at most ``limits.max_long_polls``)."""
    ops: OpsConfig | None = None
    """The ops console's configuration; ``None`` when it is not served."""
    webhook_secret: SecretStr | None = None
    """Verifies GitHub's webhook deliveries; ``None`` refuses them (503)."""


def get_resources(request: Request) -> Resources:
    """The app's resources; set by the lifespan."""
    resources = getattr(request.app.state, "resources", None)
    if not isinstance(resources, Resources):
        raise RuntimeError("the app's lifespan has not run: no database or queue")
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def _pending_jobs(resources: ResourcesDep) -> AsyncIterator[PendingJobs]:
    jobs = PendingJobs()
    try:
        yield jobs
    except BaseException:
        jobs.drop()
        raise
    # Exited after the session's commit (the session depends on this).
    await jobs.flush(resources.fair)


JobsDep = Annotated[PendingJobs, Depends(_pending_jobs, scope="function")]


async def _session(resources: ResourcesDep, _jobs: JobsDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def _cipher(resources: ResourcesDep) -> SecretsCipher:
    return resources.cipher


CipherDep = Annotated[SecretsCipher, Depends(_cipher)]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer prv_…`")


async def _principal(
    session: SessionDep,
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise not_authenticated("send an API token as `Authorization: Bearer <token>`")
    token_hash = hash_api_token(credentials.credentials.strip())
    principal = resources.principals.get(token_hash)
    if principal is not None:
        return principal
    if resources.unknown_tokens.recently_refused(token_hash):
        raise not_authenticated("the API token is unknown, revoked or expired")
    return await look_up_principal(
        session, resources.principals, token_hash, resources.unknown_tokens
    )


async def look_up_principal(
    session: AsyncSession,
    cache: PrincipalCache,
    token_hash: str,
    refused: UnknownTokens | None = None,
) -> Principal:
    """Who ``token_hash`` is: ask the database (401 when unknown, revoked or expired);
    a refused token is remembered in ``refused`` so that a flood of it costs no query."""
    token = await token_repository.find_token(session, token_hash)
    if token is None:
        if refused is not None:
            refused.refuse(token_hash)
        raise not_authenticated("the API token is unknown, revoked or expired")
    owners = frozenset(token.owners) if token.owners is not None else None
    principal = Principal(role=TokenRole(token.role), subject=token.subject, owners=owners)
    cache.put(token_hash, principal, expires_at=token.expires_at)
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]

PrincipalRecheck = Callable[[], Awaitable[None]]
"""Raises 401 once the caller's token is revoked or expired (for long polls)."""


def _principal_recheck(
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PrincipalRecheck:
    token_hash = hash_api_token(credentials.credentials.strip() if credentials else "")

    async def recheck() -> None:
        if resources.principals.get(token_hash, max_age_s=PRINCIPAL_RECHECK_S) is not None:
            return
        async with resources.sessionmaker() as session:
            await look_up_principal(session, resources.principals, token_hash)

    return recheck


PrincipalRecheckDep = Annotated[PrincipalRecheck, Depends(_principal_recheck)]


def _require_json(request: Request) -> None:
    content_type = request.headers.get("content-type")
    if content_type:
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        if message.get_content_maintype() == "application" and (
            subtype == "json" or subtype.endswith("+json")
        ):
            return
    raise RequestRejected(
        415,
        "unsupported_media_type",
        f"send the body as application/json, not {(content_type or 'no Content-Type')[:100]}",
    )


JsonBodyDep = Annotated[None, Depends(_require_json)]

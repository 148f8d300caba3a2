"""Console sign-ins: an ``ops`` API token exchanged for a session kept in Redis.

The browser holds only a random session id, in an HttpOnly, SameSite=Strict
cookie scoped to ``/ops`` (Secure when the request came over HTTPS, directly or
through a proxy uvicorn trusts), expiring with the session. Redis holds, under
the id's SHA-256, the token's hash (never the token), who signed in, the
session's CSRF token and when it ends. Every request re-checks the token
(the API's 5-second principal cache, else the database), so revoking it ends
its sessions within 5 s, as for bearer calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

__all__ = ["LOGIN_COOKIE", "SESSION_COOKIE", "OpsSession", "SessionStore", "csrf_matches"]

SESSION_COOKIE = "ops_session"
LOGIN_COOKIE = "ops_login_csrf"
"""Before sign-in: the CSRF token of the sign-in form (double submit)."""


@dataclass(frozen=True)
class OpsSession:
    """One signed-in browser."""

    token_hash: str
    subject: str
    csrf: str
    expires_at: float
    """Epoch seconds."""


def csrf_matches(expected: str, given: str | None) -> bool:
    """Whether a form's CSRF field is the session's (constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


class SessionStore:
    """Sessions under ``<queue>:ops-session:<sha256 of the id>``, expiring by themselves."""

    def __init__(self, redis: Redis, queue_name: str, *, ttl_s: int) -> None:
        self._redis = redis
        self._prefix = f"{queue_name}:ops-session:"
        self.ttl_s = ttl_s

    def _key(self, session_id: str) -> str:
        return self._prefix + hashlib.sha256(session_id.encode()).hexdigest()

    async def create(self, *, token_hash: str, subject: str) -> tuple[str, OpsSession]:
        """A new session; returns its id (for the cookie) and what is stored."""
        session_id = secrets.token_urlsafe(32)
        session = OpsSession(
            token_hash=token_hash,
            subject=subject,
            csrf=secrets.token_urlsafe(32),
            expires_at=time.time() + self.ttl_s,
        )
        await self._redis.set(self._key(session_id), json.dumps(asdict(session)), ex=self.ttl_s)
        return session_id, session

    async def get(self, session_id: str | None) -> OpsSession | None:
        """The live session with this id, or None."""
        if not session_id or len(session_id) > 100:
            return None
        raw = await self._redis.get(self._key(session_id))
        if raw is None:
            return None
        try:
            session = OpsSession(**json.loads(raw))
        except (TypeError, ValueError):
            return None
        return session if session.expires_at > time.time() else None

    async def delete(self, session_id: str | None) -> None:
        """End the session (sign-out, or its token is no longer valid)."""
        if session_id:
            await self._redis.delete(self._key(session_id))

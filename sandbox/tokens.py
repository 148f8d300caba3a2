"""Installation tokens: issued opaque, kept only as a hash, expiring after an hour."""

from __future__ import annotations

import hashlib
import random
import string

from sandbox.models import IssuedToken

__all__ = ["TOKEN_LIFETIME_S", "TokenStore"]

TOKEN_LIFETIME_S = 3600
_ALPHABET = string.ascii_letters + string.digits


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Issues ``ghs_`` tokens and verifies them by their SHA-256.

    Tokens come from a seeded generator so runs repeat; they guard nothing real.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._by_digest: dict[str, IssuedToken] = {}
        self.issued = 0

    def issue(
        self,
        installation_id: int,
        *,
        now: float,
        permissions: dict[str, str],
        repository_ids: frozenset[int] | None,
    ) -> tuple[str, IssuedToken]:
        """A new token (76 random characters after ``ghs_``) and what is kept of it."""
        token = "ghs_" + "".join(self._rng.choices(_ALPHABET, k=76))
        record = IssuedToken(installation_id, now + TOKEN_LIFETIME_S, permissions, repository_ids)
        self._by_digest[_digest(token)] = record
        self.issued += 1
        return token, record

    def lookup(self, token: str, *, now: float) -> IssuedToken | None:
        """The token's record, or None when unknown or expired."""
        record = self._by_digest.get(_digest(token))
        if record is None or now >= record.expires_at:
            return None
        return record

    def revoke_installation(self, installation_id: int) -> None:
        """Forget the tokens of one installation (uninstalling the App does this)."""
        self._by_digest = {
            d: r for d, r in self._by_digest.items() if r.installation_id != installation_id
        }

    def revoke_all(self) -> None:
        """Forget every token (they answer 401 from now on)."""
        self._by_digest.clear()

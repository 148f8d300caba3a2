"""The GitHub App's JSON Web Token (RS256), minted with a key parsed once."""

from __future__ import annotations

from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["JWT_BACKDATE_S", "JWT_LIFETIME_S", "AppJWT", "encode_app_jwt"]

JWT_BACKDATE_S = 60
"""``iat`` is set this far in the past to absorb clock drift (GitHub's advice)."""
JWT_LIFETIME_S = 9 * 60
"""``exp`` this far ahead: GitHub allows 10 minutes, and clock skew makes 10 fail."""
_REUSE_MARGIN_S = 60


def encode_app_jwt(app_id: str, private_key: RSAPrivateKey, *, now: float) -> str:
    """A JWT that authenticates as the App, valid from ``now - 60 s`` to ``now + 9 min``."""
    issued = int(now) - JWT_BACKDATE_S
    claims = {"iat": issued, "exp": int(now) + JWT_LIFETIME_S, "iss": app_id}
    return jwt.encode(claims, private_key, algorithm="RS256")


class AppJWT:
    """Hands out the App JWT, reusing one until it has a minute of life left."""

    def __init__(
        self, app_id: str, private_key: RSAPrivateKey, *, clock: Callable[[], float]
    ) -> None:
        self._app_id = app_id
        self._key = private_key
        self._clock = clock
        self._token = ""
        self._expires = 0.0

    def refresh(self) -> str:
        """A newly signed JWT (GitHub rejected the one in use)."""
        self._expires = 0.0
        return self()

    def __call__(self) -> str:
        now = self._clock()
        if now >= self._expires - _REUSE_MARGIN_S:
            self._token = encode_app_jwt(self._app_id, self._key, now=now)
            self._expires = int(now) + JWT_LIFETIME_S
        return self._token

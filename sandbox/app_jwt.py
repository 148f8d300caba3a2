"""Verification of App JWTs by GitHub's rules, against the sandbox clock."""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from sandbox.errors import GitHubError

__all__ = ["MAX_LIFETIME_S", "SKEW_S", "looks_like_jwt", "verify_app_jwt"]

MAX_LIFETIME_S = 600
SKEW_S = 60
_EXP_INVALID = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)


def _unauthorized(message: str) -> GitHubError:
    return GitHubError(401, message)


def looks_like_jwt(token: str) -> bool:
    """Whether ``token`` has a JWT's three dot-separated parts."""
    return token.count(".") == 2 and not token.startswith("ghs_")


def verify_app_jwt(
    token: str, public_key: RSAPublicKey, *, app_id: int, client_id: str, now: float
) -> None:
    """Accept an App JWT or raise a 401 :class:`GitHubError` with GitHub's message.

    Rules: RS256 signed by the App's key; ``iss`` the App id (string or integer) or
    its client id; ``exp`` in the future and at most 600 s after ``iat``; ``iat`` not
    more than 60 s in the future.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise _unauthorized("A JSON web token could not be decoded") from exc
    exp, iat, iss = _number(claims.get("exp")), _number(claims.get("iat")), claims.get("iss")
    if exp is None or exp <= now:
        raise _unauthorized(_EXP_INVALID)
    if iat is None or iat > now + SKEW_S:
        raise _unauthorized(
            "'Issued at' claim ('iat') must be an Integer representing the time "
            "that the assertion was issued"
        )
    if exp - iat > MAX_LIFETIME_S:
        raise _unauthorized("'Expiration time' claim ('exp') is too far in the future")
    if str(iss) in {str(app_id), client_id}:
        return
    if not str(iss).isdigit():
        raise _unauthorized("'Issuer' claim ('iss') must be an Integer")
    # another App's id: GitHub checks the signature with that App's key, which fails
    raise _unauthorized("A JSON web token could not be decoded")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

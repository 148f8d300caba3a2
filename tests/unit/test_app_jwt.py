"""App JWT claims and reuse."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from shared.github.app_jwt import AppJWT, encode_app_jwt


def _claims(token: str, key: RSAPrivateKey) -> dict[str, object]:
    return jwt.decode(token, key.public_key(), algorithms=["RS256"], options={"verify_exp": False})


def test_claims_follow_github_rules(app_key: RSAPrivateKey) -> None:
    now = 1_700_000_000.5
    token = encode_app_jwt("12345", app_key, now=now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = _claims(token, app_key)
    assert claims == {"iat": 1_700_000_000 - 60, "exp": 1_700_000_000 + 540, "iss": "12345"}


def test_jwt_is_reused_until_a_minute_before_expiry(app_key: RSAPrivateKey) -> None:
    now = [1_700_000_000.0]
    minter = AppJWT("7", app_key, clock=lambda: now[0])
    first = minter()
    now[0] += 7 * 60
    assert minter() == first
    now[0] += 60 + 1  # less than a minute left: a new one
    second = minter()
    assert second != first
    assert _claims(second, app_key)["iat"] == int(now[0]) - 60

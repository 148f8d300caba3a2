"""Secrets at rest and API tokens.

Project secrets are kept, until GitHub has them, encrypted with a PyNaCl
``SecretBox`` under ``SECRETS_KEY`` (32 bytes, base64). API tokens are random
and high-entropy, so only their SHA-256 is stored: a fast hash is enough.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import secrets
from base64 import b64decode, b64encode

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from shared.errors import ConfigError, SecretUndecryptable
from shared.settings import SecretsSettings

__all__ = [
    "API_TOKEN_PREFIX",
    "SecretsCipher",
    "cipher_from",
    "generate_secrets_key",
    "hash_api_token",
    "new_api_token",
]

API_TOKEN_PREFIX = "prv_"
_KEY_SIZE: int = SecretBox.KEY_SIZE


def generate_secrets_key() -> str:
    """A fresh random key for ``SECRETS_KEY``, base64."""
    return b64encode(random_bytes(_KEY_SIZE)).decode("ascii")


class SecretsCipher:
    """Authenticated symmetric encryption of secret values (XSalsa20-Poly1305)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != _KEY_SIZE:
            raise ConfigError(
                f"SECRETS_KEY must be {_KEY_SIZE} bytes, got {len(key)}: generate one with "
                "python -c 'from shared.crypto import generate_secrets_key as g; print(g())'"
            )
        self._box = SecretBox(key)
        self._mac_key = hashlib.blake2b(key, digest_size=32, person=b"fingerprint").digest()

    @classmethod
    def from_base64(cls, encoded: str | None) -> SecretsCipher:
        """A cipher from a base64 key; a missing or malformed key is a :class:`ConfigError`."""
        if not encoded or not encoded.strip():
            raise ConfigError("SECRETS_KEY is not set: give 32 random bytes in base64")
        try:
            key = b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("SECRETS_KEY is not valid base64") from None
        return cls(key)

    def encrypt(self, plaintext: str) -> bytes:
        """Nonce and ciphertext of ``plaintext`` (UTF-8), ready for a ``bytea`` column."""
        return bytes(self._box.encrypt(plaintext.encode("utf-8")))

    def fingerprint(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under a key derived from ``SECRETS_KEY`` (hex).

        Unlike a plain hash, it cannot be used to guess weak secret values offline
        by whoever reads the database.
        """
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()

    def decrypt(self, ciphertext: bytes) -> str:
        """The plaintext; :class:`SecretUndecryptable` if this key did not encrypt it."""
        try:
            return bytes(self._box.decrypt(ciphertext)).decode("utf-8")
        except CryptoError:
            raise SecretUndecryptable(
                "a stored secret cannot be decrypted: SECRETS_KEY is not the key "
                "it was encrypted with, or the data is damaged"
            ) from None


def new_api_token() -> str:
    """A new API token: ``prv_`` and 32 random bytes, URL-safe."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """What is stored for ``token``: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cipher_from(settings: SecretsSettings) -> SecretsCipher:
    """The cipher for the ``SECRETS_KEY`` section; a missing or bad key is a ConfigError."""
    return SecretsCipher.from_base64(settings.key.get_secret_value() if settings.key else None)

"""Secrets at rest and API tokens.

Project secrets are kept, until GitHub has them, encrypted with a PyNaCl
``SecretBox`` under the newest of ``SECRETS_KEYS`` (or ``SECRETS_KEY``; 32 bytes,
base64 each), the key's id in front of each ciphertext. API tokens are random
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
    """Authenticated symmetric encryption of secret values (XSalsa20-Poly1305), with key ids.

    ``key`` encrypts; ``older`` keys (newest first) still decrypt, so a key can be rotated:
    add the new one in front of ``SECRETS_KEYS``, run ``provisioner secrets rekey``, then
    drop the old one. Each ciphertext starts with its key's id (a version byte and 4 bytes
    of a hash of the key); ciphertexts from before key ids are tried with every key.
    """

    def __init__(self, key: bytes, *older: bytes) -> None:
        keys = (key, *older)
        for each in keys:
            if len(each) != _KEY_SIZE:
                raise ConfigError(
                    f"SECRETS_KEY must be {_KEY_SIZE} bytes, got {len(each)}: generate one "
                    "with python -c 'from shared.crypto import generate_secrets_key as g; "
                    "print(g())'"
                )
        self._boxes = {_key_id(each): SecretBox(each) for each in keys}
        self._newest = _key_id(key)
        self._mac_keys = [
            hashlib.blake2b(each, digest_size=32, person=b"fingerprint").digest() for each in keys
        ]

    @classmethod
    def from_base64(cls, encoded: str | None, *older: str) -> SecretsCipher:
        """A cipher from base64 keys (newest first); a missing or bad one is a ConfigError."""
        if not encoded or not encoded.strip():
            raise ConfigError("SECRETS_KEY is not set: give 32 random bytes in base64")
        keys = []
        for text in (encoded, *older):
            try:
                keys.append(b64decode(text.strip(), validate=True))
            except (binascii.Error, ValueError):
                raise ConfigError("SECRETS_KEY is not valid base64") from None
        return cls(*keys)

    @property
    def key_id(self) -> str:
        """The id (hex) of the key that encrypts."""
        return self._newest.hex()

    def encrypt(self, plaintext: str) -> bytes:
        """Key id, nonce and ciphertext of ``plaintext`` (UTF-8), for a ``bytea`` column."""
        box = self._boxes[self._newest]
        return _VERSION + self._newest + bytes(box.encrypt(plaintext.encode("utf-8")))

    def needs_rekey(self, ciphertext: bytes) -> bool:
        """Whether ``ciphertext`` was made with another key than the newest."""
        return ciphertext[:1] != _VERSION or ciphertext[1:_HEADER] != self._newest

    def rekey(self, ciphertext: bytes) -> bytes:
        """The same plaintext, encrypted with the newest key."""
        return self.encrypt(self.decrypt(ciphertext))

    def fingerprint(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under a key derived from the newest key (hex).

        Unlike a plain hash, it cannot be used to guess weak secret values offline
        by whoever reads the database.
        """
        return hmac.new(self._mac_keys[0], data, hashlib.sha256).hexdigest()

    def fingerprint_matches(self, data: bytes, stored: str | None) -> bool:
        """Whether ``stored`` is the fingerprint of ``data`` under any configured key."""
        if stored is None:
            return False
        return any(
            hmac.compare_digest(hmac.new(k, data, hashlib.sha256).hexdigest(), stored)
            for k in self._mac_keys
        )

    def decrypt(self, ciphertext: bytes) -> str:
        """The plaintext; :class:`SecretUndecryptable` if no configured key encrypted it."""
        candidates: list[tuple[SecretBox, bytes]]
        if ciphertext[:1] == _VERSION and ciphertext[1:_HEADER] in self._boxes:
            candidates = [(self._boxes[ciphertext[1:_HEADER]], ciphertext[_HEADER:])]
        else:  # from before key ids: try them all
            candidates = [(box, ciphertext) for box in self._boxes.values()]
        for box, sealed in candidates:
            try:
                return bytes(box.decrypt(sealed)).decode("utf-8")
            except CryptoError:
                continue
        raise SecretUndecryptable(
            "a stored secret cannot be decrypted: SECRETS_KEY is not the key "
            "it was encrypted with, or the data is damaged"
        )


_VERSION = b"\x01"
_HEADER = 5


def _key_id(key: bytes) -> bytes:
    return hashlib.blake2b(key, digest_size=4, person=b"secrets-key-id").digest()


def new_api_token() -> str:
    """A new API token: ``prv_`` and 32 random bytes, URL-safe."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    """What is stored for ``token``: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def cipher_from(settings: SecretsSettings) -> SecretsCipher:
    """The cipher for ``SECRETS_KEYS`` (newest first) or ``SECRETS_KEY``; a missing or bad
    key is a ConfigError."""
    keys = [k.get_secret_value() for k in settings.all_keys()]
    if not keys:
        return SecretsCipher.from_base64(None)
    return SecretsCipher.from_base64(keys[0], *keys[1:])

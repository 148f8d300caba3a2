"""Encrypting Actions secrets the way GitHub wants: a libsodium sealed box, base64."""

from __future__ import annotations

from base64 import b64decode, b64encode

from nacl.public import PublicKey, SealedBox

__all__ = ["seal_secret"]


def seal_secret(public_key_b64: str, value: str) -> str:
    """``value`` encrypted to the repository's public key, base64-encoded."""
    box = SealedBox(PublicKey(b64decode(public_key_b64)))
    return b64encode(box.encrypt(value.encode())).decode("ascii")

"""Secrets are sealed so that only the repository's private key opens them."""

from __future__ import annotations

from base64 import b64decode, b64encode

from nacl.public import PrivateKey, SealedBox

from shared.github.sealed_box import seal_secret


def test_sealed_box_round_trip() -> None:
    private = PrivateKey.generate()
    public_b64 = b64encode(bytes(private.public_key)).decode()
    sealed = seal_secret(public_b64, "s3cr3t ✓")
    assert "s3cr3t" not in sealed
    assert SealedBox(private).decrypt(b64decode(sealed)).decode() == "s3cr3t ✓"


def test_each_seal_is_different() -> None:
    public_b64 = b64encode(bytes(PrivateKey.generate().public_key)).decode()
    assert seal_secret(public_b64, "x") != seal_secret(public_b64, "x")

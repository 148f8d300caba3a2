"""One RSA key for the GitHub App per test session (generating one takes ~100 ms)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey


@pytest.fixture(scope="session")
def app_key() -> RSAPrivateKey:
    """The test GitHub App's private key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def app_key_pem(app_key: RSAPrivateKey) -> bytes:
    """The same key, PKCS#1 PEM, as GitHub hands it out."""
    return app_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@pytest.fixture
def app_key_file(tmp_path: Path, app_key_pem: bytes) -> Path:
    """The key in a file, as ``GITHUB_APP_PRIVATE_KEY_PATH`` would name it."""
    path = tmp_path / "app.pem"
    path.write_bytes(app_key_pem)
    return path

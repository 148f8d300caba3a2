"""SecretsCipher and the API token helpers (no I/O)."""

from __future__ import annotations

import re
from base64 import b64encode

import pytest

from shared.crypto import (
    SecretsCipher,
    cipher_from,
    generate_secrets_key,
    hash_api_token,
    new_api_token,
)
from shared.errors import ConfigError, SecretUndecryptable
from shared.settings import SecretsSettings


def test_round_trip_with_unicode() -> None:
    cipher = SecretsCipher.from_base64(generate_secrets_key())

    sealed = cipher.encrypt("пароль 🔑")

    assert cipher.decrypt(sealed) == "пароль 🔑"
    assert "пароль".encode() not in sealed


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = SecretsCipher.from_base64(generate_secrets_key())

    assert cipher.encrypt("same") != cipher.encrypt("same")


def test_another_key_cannot_decrypt() -> None:
    sealed = SecretsCipher.from_base64(generate_secrets_key()).encrypt("x")

    with pytest.raises(SecretUndecryptable, match="SECRETS_KEY is not the key"):
        SecretsCipher.from_base64(generate_secrets_key()).decrypt(sealed)


def test_tampered_ciphertext_is_refused() -> None:
    cipher = SecretsCipher.from_base64(generate_secrets_key())
    sealed = bytearray(cipher.encrypt("x"))
    sealed[-1] ^= 1

    with pytest.raises(SecretUndecryptable, match="cannot be decrypted"):
        cipher.decrypt(bytes(sealed))


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "SECRETS_KEY is not set"),
        ("   ", "SECRETS_KEY is not set"),
        ("not base64!", "SECRETS_KEY is not valid base64"),
        (b64encode(b"short").decode(), "SECRETS_KEY must be 32 bytes, got 5"),
    ],
)
def test_bad_keys_are_config_errors(key: str | None, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SecretsCipher.from_base64(key)


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_secrets_key()
    monkeypatch.setenv("SECRETS_KEY", key)

    sealed = cipher_from(SecretsSettings()).encrypt("v")

    assert SecretsCipher.from_base64(key).decrypt(sealed) == "v"


def test_missing_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETS_KEY", raising=False)

    with pytest.raises(ConfigError, match="SECRETS_KEY is not set"):
        cipher_from(SecretsSettings())
    assert "key=None" in repr(SecretsSettings())


def test_settings_hide_the_key() -> None:
    key = generate_secrets_key()

    assert key not in repr(SecretsSettings(key=key))


def test_api_tokens() -> None:
    token = new_api_token()

    assert re.fullmatch(r"prv_[A-Za-z0-9_-]{43}", token)
    assert new_api_token() != token
    assert hash_api_token(token) == hash_api_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", hash_api_token(token))
    assert hash_api_token(token) != hash_api_token(new_api_token())

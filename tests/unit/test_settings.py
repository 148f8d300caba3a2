"""GitHub settings: a missing or broken key is one clear error at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import load_github_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH",
                 "GITHUB_ORG", "GITHUB_API_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_defaults_point_at_github(monkeypatch: pytest.MonkeyPatch, app_key_file: Path) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_PATH", str(app_key_file))
    settings = load_github_settings()
    assert settings.api_url == "https://api.github.com"
    assert settings.org is None
    assert settings.private_key.key_size == 2048


def test_enterprise_url_and_inline_key(monkeypatch: pytest.MonkeyPatch, app_key_pem: bytes) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    monkeypatch.setenv("GITHUB_ORG", "acme")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", app_key_pem.decode().replace("\n", "\\n"))
    settings = load_github_settings()
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert settings.org == "acme"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "GITHUB_APP_ID is not set"),
        ({"GITHUB_APP_ID": "1"}, "no GitHub App private key"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
         "cannot read /nonexistent/key.pem"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "not a key"},
         "GITHUB_APP_PRIVATE_KEY is not a PEM-encoded RSA private key"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "x", "GITHUB_TIMEOUT_S": "-1"},
         "GITHUB_TIMEOUT_S"),
    ],
)  # fmt: skip
def test_configuration_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_github_settings()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)

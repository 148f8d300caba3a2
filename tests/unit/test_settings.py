"""Settings: read once; a missing or broken value is one clear line naming the variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH",
                 "GITHUB_ORG", "GITHUB_API_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_defaults_point_at_github(monkeypatch: pytest.MonkeyPatch, app_key_file: Path) -> None:
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY_PATH", str(app_key_file))
    settings = load_settings().github.app
    assert settings.api_url == "https://api.github.com"
    assert settings.org is None
    assert settings.private_key.key_size == 2048


def test_enterprise_url_and_inline_key(monkeypatch: pytest.MonkeyPatch, app_key_pem: bytes) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    monkeypatch.setenv("GITHUB_ORG", "acme")
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", app_key_pem.decode().replace("\n", "\\n"))
    settings = load_settings().github.app
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
        load_settings(require_github=True)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", ""),
        ("DB_POOL_SIZE", "zero"),
        ("QUEUE_NAME", ""),
        ("WORKER_RETRY_FOR_S", "0"),
        ("WORKER_POLL_DELAY_S", "soon"),
        ("API_PORT", "70000"),
        ("AGENT_TOKEN_PERMISSIONS", '{"contents": "everything"}'),
        ("LOG_LEVEL", "chatty"),
        ("LOG_FORMAT", "xml"),
        ("SECRETS_KEY", "not base64!"),
        ("SECRETS_KEY", "c2hvcnQ="),
        ("GITHUB_WRITES_PER_MINUTE", "0"),
        ("GITHUB_MAX_IN_FLIGHT", "101"),
        ("QUEUE_PROJECTS_IN_FLIGHT", "0"),
        ("WORKER_METRICS_PORT", "-1"),
    ],
)
def test_every_section_names_the_variable_at_fault(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)


def test_no_app_is_fine_for_the_api_and_an_error_for_the_worker() -> None:
    assert not load_settings().github.configured
    with pytest.raises(ConfigError, match="GITHUB_APP_ID is not set"):
        load_settings(require_github=True)


def test_the_budget_is_one_per_app_and_github() -> None:
    from shared.github_budget import budget_config
    from shared.settings import GitHubSettings

    github = budget_config(GitHubSettings(app_id="42"))
    enterprise = budget_config(GitHubSettings(app_id="42", api_url="https://ghe.acme/api/v3"))
    other_app = budget_config(GitHubSettings(app_id="43"))
    assert len({github.key_prefix, enterprise.key_prefix, other_app.key_prefix}) == 3
    assert github.key_prefix == budget_config(GitHubSettings(app_id="42")).key_prefix


@pytest.mark.parametrize(
    "value",
    [
        '{"administration": "write"}',
        '{"contents": "write", "secrets": "write"}',
        '{"members": "read"}',
    ],
)
def test_agent_permissions_outside_the_allow_list_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AGENT_TOKEN_PERMISSIONS", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("AGENT_TOKEN_PERMISSIONS: ")
    assert "\n" not in str(caught.value)


def test_agent_permissions_on_the_allow_list_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = {
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "metadata": "read",
        "actions": "read",
        "checks": "write",
        "statuses": "write",
        "workflows": "write",
    }
    monkeypatch.setenv("AGENT_TOKEN_PERMISSIONS", json.dumps(allowed))
    assert load_settings().agents.permissions == allowed

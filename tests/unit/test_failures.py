"""The one failure model: unique codes, each documented, and one classifying boundary."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy.exc import OperationalError

import shared.errors
import shared.github.errors
import shared.provisioning.errors
from shared.crypto import SecretsCipher, generate_secrets_key
from shared.errors import API_ERROR_CODES, ConfigError, ProvisionerError
from shared.failures import classify
from shared.github.errors import GitHubError, ServerError
from shared.projects import lifecycle


def _subclasses(root: type[BaseException]) -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for cls in root.__subclasses__():
        found += [cls, *_subclasses(cls)]
    return found


def _codes() -> list[str]:
    classes = [ProvisionerError, *_subclasses(ProvisionerError)]
    classes += [GitHubError, *_subclasses(GitHubError)]
    codes = [str(cls.code) for cls in classes if "code" in vars(cls)]  # type: ignore[attr-defined]
    return codes + list(API_ERROR_CODES)


def test_every_code_is_unique() -> None:
    codes = _codes()
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


def test_every_failure_code_is_in_a_documented_table() -> None:
    tables = " ".join(m.__doc__ or "" for m in (shared.errors, shared.github.errors, lifecycle))
    documented = set(tables.split())
    for module in (shared.errors, shared.github.errors, shared.provisioning.errors, lifecycle):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            code = vars(cls).get("code")
            if isinstance(code, str) and cls.__module__ == module.__name__:
                assert code in documented, f"{cls.__name__}.code {code!r} is not in the table"


def test_a_github_error_keeps_its_code_and_wait() -> None:
    failure = classify(ServerError("boom", status=502))
    assert (failure.code, failure.transient) == ("github_server_error", True)


def test_a_decrypt_failure_is_permanent_with_its_own_code() -> None:
    sealed = SecretsCipher.from_base64(generate_secrets_key()).encrypt("v")
    with pytest.raises(ProvisionerError) as caught:
        SecretsCipher.from_base64(generate_secrets_key()).decrypt(sealed)
    failure = classify(caught.value)
    assert (failure.code, failure.transient) == ("secret_undecryptable", False)


def test_config_database_and_unexpected_errors() -> None:
    assert classify(ConfigError("GITHUB_APP_ID: bad")).code == "config_invalid"
    down = classify(OperationalError("SELECT 1", {}, ConnectionRefusedError()))
    assert (down.code, down.transient) == ("database_unavailable", True)
    bug = classify(KeyError("x"))
    assert (bug.code, bug.transient) == ("internal_error", True)
    assert "KeyError" in bug.message

"""GitHub's secret rules, checked before any request."""

from __future__ import annotations

import pytest

from shared.provisioning.secret_rules import (
    MAX_SECRET_VALUE_BYTES,
    check_secrets,
)


def test_good_secrets_pass() -> None:
    assert (
        check_secrets({"API_KEY": "x", "_private": "y", "db_url2": "z" * MAX_SECRET_VALUE_BYTES})
        == []
    )


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("1ST", "must not start with a digit"),
        ("HAS-DASH", "only letters, digits and _"),
        ("has space", "only letters, digits and _"),
        ("ÜBER", "only letters, digits and _"),
        ("", "only letters, digits and _"),
        ("GITHUB_TOKEN", "must not start with GITHUB_"),
        ("github_thing", "must not start with GITHUB_"),
    ],
)
def test_bad_names(name: str, fragment: str) -> None:
    [problem] = check_secrets({name: "v"})
    assert problem.name == name
    assert fragment in problem.message


def test_value_over_48_kb() -> None:
    [problem] = check_secrets({"BIG": "é" * (MAX_SECRET_VALUE_BYTES // 2 + 1)})
    assert problem.name == "BIG"
    assert "48 KB" in problem.message


def test_more_than_100_secrets() -> None:
    problems = check_secrets({f"S{i}": "v" for i in range(101)})
    assert [p.name for p in problems] == [None]
    assert "at most 100" in problems[0].message


def test_names_differing_only_in_case_collide() -> None:
    [problem] = check_secrets({"token": "a", "TOKEN": "b"})
    assert problem.name == "TOKEN"

"""The repository-name rule, as a table."""

from __future__ import annotations

import pytest

from shared.provisioning.repo_name import InvalidRepositoryName, repository_name


@pytest.mark.parametrize(
    ("display_name", "expected"),
    [
        ("Hello World", "hello-world"),
        ("My Project v2.0", "my-project-v2.0"),
        ("Тестовый бот", "testovyi-bot"),
        ("Щука ёжик", "shchuka-ezhik"),
        ("Юлия, Объект!", "iuliia-obieekt"),
        ("Café — résumé", "cafe-resume"),
        ("日本語", "ribenyu"),
        ("🚀 Rocket launch", "rocket-launch"),
        ("  spaces   and\ttabs  ", "spaces-and-tabs"),
        ("Hello, World!!!", "hello-world"),
        ("don't panic", "dont-panic"),
        ("snake_case_Name", "snake_case_name"),
        ("MiXeD CaSe", "mixed-case"),
        ("x.git", "x"),
        ("My.Repo.GIT", "my.repo"),
        ("-._edges_.-", "edges"),
        ("a" * 100, "a" * 100),
        ("a\u200db", "ab"),
    ],
)
def test_display_name_gives_repository_name(display_name: str, expected: str) -> None:
    assert repository_name(display_name) == expected


@pytest.mark.parametrize(
    ("display_name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("🚀🔥✨", "empty"),
        (".", "empty"),
        ("..", "empty"),
        (".git", "empty"),
        ("!!!", "empty"),
        ("a" * 150, "too_long"),
        ("Щ" * 30, "too_long"),  # 30 letters, 120 characters once transliterated
    ],
)
def test_unusable_display_names_are_refused(display_name: str, reason: str) -> None:
    with pytest.raises(InvalidRepositoryName) as caught:
        repository_name(display_name)
    assert caught.value.reason == reason


def test_result_only_uses_characters_github_keeps() -> None:
    name = repository_name("Ünïcødé ≠ ASCII · «quotes» & more/slashes\\back")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    assert name == "unicode-ascii-quotes-more-slashes-back"

"""``.project.yaml``: stable bytes, unicode kept, no secret values."""

from __future__ import annotations

from uuid import UUID

from shared.provisioning.project_file import project_id_in, render_project_file

PID = UUID("6f1c1f7e-3d0e-4a53-9d5c-2f4b8c1a0e11")


def _render(config: dict[str, object], secrets: list[str]) -> bytes:
    return render_project_file(
        project_id=PID,
        name="Тестовый бот",
        description="Бот для тестов",
        owner="alice",
        config=config,
        secret_names=secrets,
    )


def test_same_content_gives_same_bytes_whatever_the_key_order() -> None:
    one = _render({"b": 1, "a": {"y": 2, "x": 1}}, ["B", "A"])
    two = _render({"a": {"x": 1, "y": 2}, "b": 1}, ["A", "B"])
    assert one == two


def test_unicode_is_kept_and_layout_is_fixed() -> None:
    text = _render({"lang": "ru"}, ["API_KEY"]).decode()
    assert text == (
        "# Written by provisioner. The id ties this repository to its project.\n"
        "project:\n"
        "  id: 6f1c1f7e-3d0e-4a53-9d5c-2f4b8c1a0e11\n"
        "  name: Тестовый бот\n"
        "  description: Бот для тестов\n"
        "  owner: alice\n"
        "config:\n"
        "  lang: ru\n"
        "secrets:\n"
        "  - API_KEY\n"
    )


def test_project_id_is_read_back() -> None:
    assert project_id_in(_render({}, [])) == str(PID)


def test_foreign_or_broken_files_name_no_project() -> None:
    assert project_id_in(b"just: text\n") is None
    assert project_id_in(b"project: [1, 2]\n") is None
    assert project_id_in(b": : :\n\t- [") is None
    assert project_id_in(b"- a list\n") is None

"""The repository-name rule: a project's display name → a GitHub repository name.

Russian Cyrillic is transliterated with ICAO Doc 9303 (the table of Russian
passports: "Тестовый бот" → ``testovyi-bot``), every other script with
anyascii; symbols and emoji are dropped. The result is lower-case kebab,
only ``[a-z0-9._-]``, 1–100 characters, never ``.``/``..``, no ``.git``
suffix: a name GitHub keeps as it is. GitHub's answer stays the authority on
the final name.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

__all__ = ["MAX_REPO_NAME_LENGTH", "InvalidRepositoryName", "repository_name"]

MAX_REPO_NAME_LENGTH = 100

_ICAO_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g",
}  # fmt: skip
_DROPPED = {"'", "’", "`", "ʼ", '"'}
_NOT_ALLOWED = re.compile(r"[^a-z0-9._-]+")
_DASH_RUNS = re.compile(r"-{2,}")
_EDGE = "-._"


class InvalidRepositoryName(ValueError):
    """The display name gives no usable repository name; ``reason`` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _to_ascii(char: str) -> str:
    if char in _DROPPED:
        return ""
    if char.isspace():
        return "-"
    category = unicodedata.category(char)
    if category[0] in "SC":  # symbols (emoji included), controls, joiners, selectors
        return "-" if category[0] == "S" else ""
    if char.isascii():
        return char
    return _ICAO_CYRILLIC.get(char) or anyascii(char)


def repository_name(display_name: str) -> str:
    """The repository name for ``display_name``, or :class:`InvalidRepositoryName`."""
    lowered = unicodedata.normalize("NFC", display_name).lower()
    ascii_text = "".join(_to_ascii(char) for char in lowered).lower()
    name = _DASH_RUNS.sub("-", _NOT_ALLOWED.sub("-", ascii_text))
    while name != (trimmed := name.removesuffix(".git").strip(_EDGE)):
        name = trimmed
    if not name or set(name) <= {"."}:
        raise InvalidRepositoryName(
            "empty", f"{display_name!r} has no letters or digits to name a repository with"
        )
    if len(name) > MAX_REPO_NAME_LENGTH:
        raise InvalidRepositoryName(
            "too_long",
            f"the repository name would be {len(name)} characters; "
            f"GitHub allows at most {MAX_REPO_NAME_LENGTH}",
        )
    return name

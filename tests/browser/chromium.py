"""Debian's Chromium for browser tests, driven by Playwright (which downloads no browser here).

:func:`chromium_path` finds it (``CHROMIUM``, else ``/usr/bin/chromium``); when it is
missing the test is skipped on a developer's machine and FAILS under ``CI=true``:
``.ci/run`` installs it, so a missing browser in CI is a broken set-up, not a pass.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage, Error, Page

__all__ = ["SCREENSHOTS", "ConsoleErrors", "chromium_path"]

SCREENSHOTS = Path(
    os.environ.get(
        "OPS_SCREENSHOTS_DIR", Path(__file__).resolve().parents[2] / "artifacts" / "ops-console"
    )
)
"""Where the browser test saves a screenshot of each page (gitignored)."""


def chromium_path() -> str:
    """The Chromium binary, or skip (fail under CI) when there is none."""
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if Path(found).is_file():
        return found
    message = "Chromium is missing: apt-get install -y chromium (.ci/run does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class ConsoleErrors:
    """Every console error and uncaught exception of the pages it watches."""

    seen: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        """Record ``page``'s console errors and page errors from now on."""
        page.on("console", self._console)
        page.on("pageerror", self._page_error)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.seen.append(f"console: {message.text} ({message.location})")

    def _page_error(self, error: Error) -> None:
        self.seen.append(f"page error: {error}")

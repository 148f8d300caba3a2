"""A doctor's check and the two ways to print them: a table for people, JSON for scripts."""

from __future__ import annotations

import enum
import json
import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["Check", "Outcome", "failed", "render_json", "render_table"]


class Outcome(enum.StrEnum):
    """How a check came out; only ``fail`` makes ``doctor`` exit non-zero."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    outcome: Outcome
    result: str
    fix: str = ""


def failed(checks: Sequence[Check]) -> bool:
    """Whether any check failed."""
    return any(check.outcome == Outcome.FAIL for check in checks)


def render_json(checks: Sequence[Check]) -> str:
    """``{"ok": bool, "checks": [{name, outcome, result, fix}, ...]}``."""
    rows = [{**asdict(check), "outcome": str(check.outcome)} for check in checks]
    return json.dumps({"ok": not failed(checks), "checks": rows}, indent=2, ensure_ascii=False)


def render_table(checks: Sequence[Check], *, width: int | None = None) -> str:
    """A table of check, result and how to fix, wrapped to the terminal's ``width``."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    name_w = max(len("check"), *(len(c.name) for c in checks)) + 2
    mark_w = 6
    rest = max(40, width - name_w - mark_w - 3)
    result_w = rest * 11 // 20
    fix_w = rest - result_w
    lines = [f"{'check':<{name_w}}{'':<{mark_w}}{'result':<{result_w}} how to fix", "-" * width]
    for check in checks:
        mark = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}[check.outcome]
        result = textwrap.wrap(check.result, result_w - 1) or [""]
        fix = textwrap.wrap(check.fix, fix_w) or [""]
        for i in range(max(len(result), len(fix))):
            left = (check.name if i == 0 else "", mark if i == 0 else "")
            line = f"{left[0]:<{name_w}}{left[1]:<{mark_w}}"
            line += f"{result[i] if i < len(result) else '':<{result_w}} "
            line += fix[i] if i < len(fix) else ""
            lines.append(line.rstrip())
    counts = {o: sum(1 for c in checks if c.outcome == o) for o in Outcome}
    lines.append("-" * width)
    lines.append(
        f"{counts[Outcome.OK]} ok, {counts[Outcome.WARN]} warnings, "
        f"{counts[Outcome.FAIL]} failed, {counts[Outcome.SKIP]} skipped"
    )
    return "\n".join(lines)

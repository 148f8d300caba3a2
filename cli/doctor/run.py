"""Running every check in order; a failure skips the checks that depend on it."""

from __future__ import annotations

from cli.doctor.github import (
    check_app,
    check_clock,
    check_installation,
    check_key,
    check_permissions,
)
from cli.doctor.model import Check, Outcome
from cli.doctor.stores import check_database, check_redis
from shared.errors import ConfigError
from shared.settings import load_settings

__all__ = ["diagnose"]

_FIX_SETTING = "correct that variable (README, Configuration); the rest was not checked"


async def diagnose() -> list[Check]:
    """Every check, in the order of the report (reads the environment, like every command)."""
    try:
        settings = load_settings(parse_app_key=False)
    except ConfigError as exc:
        return [Check("settings", Outcome.FAIL, str(exc), _FIX_SETTING)]
    checks = [Check("settings", Outcome.OK, "every setting parses")]
    key_check, key = check_key(settings.github)
    checks.append(key_check)
    database, facts = await check_database(settings)
    granted: dict[str, str] | None = None
    if key is None:
        checks += [Check(name, Outcome.SKIP, "no usable App key") for name in _GITHUB_CHECKS]
    else:
        app_check, answer = await check_app(settings.github, key)
        checks += [app_check, check_clock(answer)]
        if app_check.outcome == Outcome.OK and answer is not None:
            slug = answer.body.get("slug")
            install_check, installation = await check_installation(settings.github, slug)
            checks.append(install_check)
            granted = dict(installation.permissions) if installation else None
        else:
            checks.append(Check("installation", Outcome.SKIP, "GitHub refused the App"))
    checks += database
    if granted is not None:
        checks += check_permissions(granted, facts.features_in_use)
    else:
        checks.append(Check("permissions", Outcome.SKIP, "no installation to ask"))
    checks += await check_redis(settings, facts)
    return checks


_GITHUB_CHECKS = ("github app", "clock", "installation")

"""The doctor's GitHub checks: App key, ``GET /app``, clock, installation, permissions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from cli.doctor.model import Check, Outcome
from shared.errors import ConfigError
from shared.github.app_jwt import encode_app_jwt
from shared.github.client import GitHubClient
from shared.github.errors import GitHubConfigError, GitHubError
from shared.github.models import Installation
from shared.github.transport import API_VERSION
from shared.provisioning.app_permissions import FEATURES, missing_permissions
from shared.settings import GitHubSettings

__all__ = [
    "MAX_SKEW_S",
    "MIN_KEY_BITS",
    "AppAnswer",
    "check_app",
    "check_clock",
    "check_installation",
    "check_key",
    "check_permissions",
]

MAX_SKEW_S = 60.0
"""GitHub refuses App JWTs issued more than a minute in its future."""
MIN_KEY_BITS = 2048
_KEY_FIX = (
    "generate a private key in the App's settings (GitHub gives a .pem file) and set "
    "GITHUB_APP_PRIVATE_KEY_PATH to it, or its text in GITHUB_APP_PRIVATE_KEY"
)


def check_key(github: GitHubSettings) -> tuple[Check, RSAPrivateKey | None]:
    """Whether the App key parses as an unencrypted RSA PEM private key of 2048 bits or more."""
    if not github.configured:
        fix = "set GITHUB_APP_ID to the App's id (its settings page, 'App ID')"
        return Check("app key", Outcome.FAIL, "GITHUB_APP_ID is not set", fix), None
    try:
        key = github.app.private_key
    except ConfigError as exc:
        return Check("app key", Outcome.FAIL, str(exc), _KEY_FIX), None
    if key.key_size < MIN_KEY_BITS:
        result = f"an RSA key of {key.key_size} bits; GitHub App keys have {MIN_KEY_BITS} or more"
        return Check("app key", Outcome.FAIL, result, _KEY_FIX), None
    return Check("app key", Outcome.OK, f"RSA private key, {key.key_size} bits"), key


@dataclass(frozen=True)
class AppAnswer:
    """GitHub's answer to ``GET /app``: its status, body and ``Date``, and when it came."""

    status: int
    body: dict[str, Any]
    date: float | None
    received_at: float


async def fetch_app(github: GitHubSettings, key: RSAPrivateKey) -> AppAnswer:
    """``GET /app`` signed with the App's JWT, once (no retries: the doctor reports)."""
    jwt = encode_app_jwt(github.app_id or "", key, now=time.time())
    headers = {
        "Authorization": f"Bearer {jwt}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": github.user_agent,
    }
    async with httpx.AsyncClient(base_url=github.api_url, timeout=github.timeout_s) as http:
        sent = time.time()
        response = await http.get("/app", headers=headers)
        received = (sent + time.time()) / 2
    try:
        body = response.json()
    except ValueError:
        body = {}
    date = response.headers.get("date")
    when = parsedate_to_datetime(date).timestamp() if date else None
    return AppAnswer(response.status_code, body if isinstance(body, dict) else {}, when, received)


async def check_app(github: GitHubSettings, key: RSAPrivateKey) -> tuple[Check, AppAnswer | None]:
    """Whether GitHub knows this App and accepts its JWT."""
    try:
        answer = await fetch_app(github, key)
    except httpx.HTTPError as exc:
        result = f"cannot reach {github.api_url}: {type(exc).__name__}: {exc}"
        fix = "check GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3) and the network"
        return Check("github app", Outcome.FAIL, result, fix), None
    if answer.status == 200:
        body = answer.body
        name = body.get("name") or body.get("slug") or "?"
        result = f"App {name!r} (slug {body.get('slug')}, id {body.get('id')}) at {github.api_url}"
        return Check("github app", Outcome.OK, result), answer
    message = answer.body.get("message") or "no message"
    result = f"GET /app answered {answer.status}: {message}"
    fix = (
        f"GITHUB_APP_ID ({github.app_id}) must be this App's id or client id, and the key one "
        "of its private keys; a clock far off also spoils the JWT (see clock)"
    )
    return Check("github app", Outcome.FAIL, result, fix), answer


def check_clock(answer: AppAnswer | None) -> Check:
    """Whether this machine's clock is within :data:`MAX_SKEW_S` of GitHub's ``Date``."""
    if answer is None:
        return Check("clock", Outcome.SKIP, "GitHub did not answer")
    if answer.date is None:
        return Check("clock", Outcome.WARN, "GitHub's answer had no Date header to compare with")
    skew = answer.received_at - answer.date
    where = "ahead of" if skew > 0 else "behind"
    result = f"this machine's clock is {abs(skew):.0f} s {where} GitHub's"
    if abs(skew) <= MAX_SKEW_S:
        return Check("clock", Outcome.OK, result)
    fix = "synchronise the clock (NTP, chrony, systemd-timesyncd): App JWTs fail beyond a minute"
    return Check("clock", Outcome.FAIL, result, fix)


async def check_installation(
    github: GitHubSettings, app_slug: str | None
) -> tuple[Check, Installation | None]:
    """Whether the installation to work in is found (``GITHUB_ORG``'s, or the only one)."""
    try:
        async with GitHubClient(github.app) as client:
            installation = await client.installation()
    except GitHubConfigError as exc:
        where = f"https://github.com/apps/{app_slug}/installations/new" if app_slug else "GitHub"
        fix = f"install the App on the organization ({where}), or set GITHUB_ORG to the one to use"
        return Check("installation", Outcome.FAIL, str(exc), fix), None
    except GitHubError as exc:
        return Check("installation", Outcome.FAIL, str(exc), "see the github app check"), None
    result = f"installation {installation.id} on {installation.account_login}"
    if not github.org:
        result += " (the App's only organization installation; GITHUB_ORG is not set)"
    return Check("installation", Outcome.OK, result), installation


def _level_list(permissions: dict[str, str]) -> str:
    return ", ".join(f"{name}: {level}" for name, level in sorted(permissions.items()))


def check_permissions(granted: dict[str, str], in_use: Iterable[str] | None) -> list[Check]:
    """A check per feature whose permissions the installation lacks (base and features in use
    fail; features no project asked for warn), or one ``ok`` when nothing is missing.

    ``in_use`` None: the database could not say, so every feature only warns.
    """
    used = set(in_use or ())
    checks = []
    fix = "grant it in the App's settings (Permissions), then accept the change on the installation"
    for feature in FEATURES:
        missing = missing_permissions(granted, dict(feature.needs))
        if not missing:
            continue
        keys = {part.strip() for part in feature.key.split(",")}
        needed = feature.key == "base" or bool(keys & used)
        why = (
            "every project"
            if feature.key == "base"
            else ("projects asked for it" if needed else "no project asks for it yet")
        )
        result = f"{feature.what} needs {_level_list(missing)} ({why})"
        outcome = Outcome.FAIL if needed else Outcome.WARN
        checks.append(Check(f"permissions: {feature.key}", outcome, result, fix))
    if not checks:
        note = "" if in_use is not None else " (the database could not say which are in use)"
        checks.append(Check("permissions", Outcome.OK, "granted for every feature" + note))
    return checks

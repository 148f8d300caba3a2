"""The settings steps of provisioning: each unapplied setting, one request, saved as it lands.

A setting whose saved digest equals what is asked costs nothing. A refusal for
good marks that setting ``failed`` and the run goes on with the others; at the
end :class:`~shared.provisioning.errors.SettingsRejected` names every refusal.
Anything worth retrying stops the run (what was applied stays saved).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import structlog

from shared.github.errors import GitHubError, GitHubHTTPError
from shared.github.models import Repository
from shared.provisioning.errors import SettingsRejected
from shared.provisioning.settings.apply import SettingsApplier, rejection
from shared.provisioning.settings.entries import (
    CREATE_BODY_KINDS,
    REPOSITORY_FIELD_KINDS,
    DesiredSetting,
)
from shared.provisioning.values import (
    AppliedSetting,
    EnsuredRepository,
    ProgressSink,
    ProjectSpec,
)

__all__ = ["create_body_rejections", "ensure_settings", "settings_made_with", "unapplied"]

T = TypeVar("T")
Retrying = Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]
_log = structlog.get_logger(__name__)
_FIELD_KINDS = {
    "visibility": "visibility",
    "homepage": "homepage",
    "has_issues": "features",
    "has_wiki": "features",
    "has_projects": "features",
    "allow_merge_commit": "merge",
    "allow_squash_merge": "merge",
    "allow_rebase_merge": "merge",
    "allow_auto_merge": "merge",
    "delete_branch_on_merge": "merge",
    "custom_properties": "custom_properties",
}


def unapplied(
    entries: Mapping[str, DesiredSetting], applied: Mapping[str, AppliedSetting]
) -> list[DesiredSetting]:
    """The entries whose saved digest is not what is asked, in order."""
    return [
        e for e in entries.values() if (a := applied.get(e.key)) is None or a.digest != e.digest
    ]


def create_body_rejections(
    entries: Mapping[str, DesiredSetting], exc: GitHubHTTPError, org: str
) -> dict[str, str]:
    """The settings a refused create request was refused for (by the fields GitHub names)."""
    kinds = {
        _FIELD_KINDS[str(e.get("field"))] for e in exc.errors if e.get("field") in _FIELD_KINDS
    }
    blamed = [e for e in entries.values() if e.kind in kinds]
    problems: dict[str, str] = {}
    for entry in blamed:
        why = rejection(entry, exc, org)
        if why is not None:
            problems[entry.key] = why
    return problems


async def ensure_settings(
    applier: SettingsApplier,
    repo: Repository,
    entries: Mapping[str, DesiredSetting],
    applied: Mapping[str, AppliedSetting],
    *,
    sink: ProgressSink,
    retrying: Retrying[int | None],
) -> int:
    """Apply what is not applied yet; returns how many were applied now.

    ``retrying`` runs one request again while a new repository still answers 404.
    """
    todo = [e for e in unapplied(entries, applied) if e.kind != "template"]
    fields = [e for e in todo if e.kind in REPOSITORY_FIELD_KINDS]
    steps = [e for e in todo if e.kind not in REPOSITORY_FIELD_KINDS]
    rejected: dict[str, str] = {}
    done = 0

    async def patch_fields() -> None:
        await applier.apply_repository_fields(repo, fields)

    if fields:
        try:
            await retrying(_returning_none(patch_fields))
        except GitHubError as exc:
            rejected.update(await _refused(fields, exc, repo.owner, sink))
        else:
            for entry in fields:
                await sink.setting_applied(entry.key, entry.digest, None)
            done += len(fields)
    for entry in steps:
        saved = applied.get(entry.key)

        def apply(
            entry: DesiredSetting = entry, saved: AppliedSetting | None = saved
        ) -> Awaitable[int | None]:
            return applier.apply(repo, entry, saved.github_id if saved else None)

        try:
            github_id = await retrying(apply)
        except GitHubError as exc:
            rejected.update(await _refused([entry], exc, repo.owner, sink))
            continue
        await sink.setting_applied(entry.key, entry.digest, github_id)
        done += 1
    if rejected:
        raise SettingsRejected(rejected)
    if done:
        _log.info("provisioning.settings_applied", count=done)
    return done


async def _refused(
    entries: list[DesiredSetting], exc: GitHubError, org: str, sink: ProgressSink
) -> dict[str, str]:
    """Record each entry as refused, or re-raise when trying again may help."""
    problems: dict[str, str] = {}
    for entry in entries:
        why = rejection(entry, exc, org)
        if why is None:
            raise exc
        problems[entry.key] = why
        _log.warning("provisioning.setting_rejected", setting=entry.key, reason=why)
        await sink.setting_failed(entry.key, SettingsRejected.code, f"{entry.key}: {why}")
    return problems


async def settings_made_with(
    repo: EnsuredRepository,
    spec: ProjectSpec,
    applied: dict[str, AppliedSetting],
    sink: ProgressSink,
) -> dict[str, AppliedSetting]:
    """What is applied once the repository exists: a new one has nothing but what its
    create request carried (or its template)."""
    if repo.created:
        await sink.settings_reset()
        applied = {}
    made_with = [
        e
        for e in spec.settings.values()
        if e.kind == "template" or (repo.body_applied and e.kind in CREATE_BODY_KINDS)
    ]
    for entry in made_with:
        await sink.setting_applied(entry.key, entry.digest, None)
        applied[entry.key] = AppliedSetting(entry.digest)
    return applied


def _returning_none(call: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[int | None]]:
    async def run() -> int | None:
        await call()
        return None

    return run

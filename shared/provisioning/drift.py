"""Drift: which managed settings GitHub no longer has as declared, and putting them back.

:func:`find_drift` reads with the fewest requests: the repository object the caller
already has carries the repository fields, the description, the topics and the custom
properties; then one request lists every team, two list every collaborator and pending
invitation (an invitation not yet accepted, at the declared role, is no drift), one
reads each variable, one the ruleset by its saved id, one each environment. Only what
is declared is compared (a team someone else added is not ours), as GitHub normalises
it (:mod:`shared.provisioning.drift_compare`). ``template`` is how the repository was
made: never drift.

:func:`restore` puts back what drifted: every repository field and the description in
one ``PATCH``, then one request per other setting, the ruleset last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.github.errors import NotFound
from shared.github.models import Repository
from shared.provisioning.drift_compare import (
    covers,
    environment_shape,
    field_shape,
    fields_agree,
    properties_agree,
    properties_shape,
    protection_shape,
    role,
    same_text,
    same_topics,
)
from shared.provisioning.settings.apply import SettingsApplier, ruleset_body
from shared.provisioning.settings.entries import (
    REPOSITORY_FIELD_KINDS,
    STEP_ORDER,
    DesiredSetting,
    repository_fields,
)

__all__ = ["DESCRIPTION", "Drifted", "find_drift", "restore"]

DESCRIPTION = "description"
"""The key of the repository description, which has no :class:`DesiredSetting`."""


@dataclass(frozen=True)
class Drifted:
    """One managed setting GitHub no longer has as declared."""

    key: str
    """The :class:`DesiredSetting` key (``topics``, ``teams.platform``...) or ``description``."""
    entry: DesiredSetting | None
    """``None`` for the description."""
    was: Any
    """What GitHub had, as JSON in the declared value's shape (``None``: absent)."""
    wanted: Any
    """The declared value."""


class _GitHubView:
    """What GitHub has for one repository: each listing read once, when first needed."""

    def __init__(
        self, applier: SettingsApplier, repo: Repository, repo_json: Mapping[str, Any]
    ) -> None:
        self._api = applier.api
        self._repo = repo
        self._json = repo_json
        self._teams: dict[str, str] | None = None
        self._people: dict[str, str] | None = None

    async def topics(self) -> list[str]:
        topics = self._json.get("topics")
        if isinstance(topics, list):
            return [str(t) for t in topics]
        return await self._api.get_topics(self._repo.owner, self._repo.name)

    async def properties(self) -> Mapping[str, Any]:
        found = self._json.get("custom_properties")
        if isinstance(found, Mapping):
            return found
        return await self._api.get_custom_properties(self._repo.owner, self._repo.name)

    async def team_role(self, slug: str) -> str | None:
        if self._teams is None:
            self._teams = await self._api.team_permissions(self._repo.owner, self._repo.name)
        by_slug = {s.lower(): r for s, r in self._teams.items()}
        return role(by_slug.get(slug.lower()))

    async def person_role(self, login: str) -> str | None:
        if self._people is None:  # collaborators, then pending invitations
            self._people = await self._api.collaborator_permissions(
                self._repo.owner, self._repo.name
            )
        return role(self._people.get(login.lower()))

    async def ruleset(self, ruleset_id: int | None) -> dict[str, Any] | None:
        if ruleset_id is None:
            return None
        return await self._api.get_ruleset(self._repo.owner, self._repo.name, ruleset_id)

    async def compare(
        self, entry: DesiredSetting, github_ids: Mapping[str, int | None], app_id: int | None
    ) -> tuple[bool, Any]:
        """``(agrees, was)`` for one setting that is not a repository field."""
        kind, value, name = entry.kind, entry.value, str(entry.name)
        owner, repo = self._repo.owner, self._repo.name
        if kind == "topics":
            topics = await self.topics()
            return same_topics(value, topics), topics
        if kind == "teams":
            found = await self.team_role(name)
            return found == value, found
        if kind == "collaborators":
            found = await self.person_role(name)
            return found == value, found
        if kind == "variables":
            text = await self._api.get_variable(owner, repo, name)
            return text == value, text
        if kind == "environments":
            shape = environment_shape(await self._api.get_environment(owner, repo, name))
            if shape is None:
                return False, None
            shape = {k: shape.get(k) for k in value}
            return shape == value, shape
        if kind == "custom_properties":
            shape = properties_shape(value, await self.properties())
            return properties_agree(value, shape), shape
        if kind == "protection":
            ruleset = await self.ruleset(github_ids.get(entry.key))
            if ruleset is None:
                return False, None
            body = ruleset_body(value, app_id)
            return covers(body, ruleset), protection_shape(ruleset, body)
        return True, None  # template: how the repository was made, nothing to compare


async def find_drift(
    applier: SettingsApplier,
    repo: Repository,
    repo_json: Mapping[str, Any],
    entries: Mapping[str, DesiredSetting],
    github_ids: Mapping[str, int | None],
    *,
    description: str | None,
) -> list[Drifted]:
    """Each of ``entries`` (and the ``description``) GitHub no longer has as declared.

    ``repo_json`` is ``GET /repos/{owner}/{repo}``'s answer, already read; ``github_ids``
    the saved ids by key (the ruleset's for ``protection``: without one, or when it is
    gone, the protection drifted with ``was=None``); ``description`` the declared one
    (``None`` and ``""`` alike: none). In the order they are applied.
    """
    found: list[Drifted] = []
    for entry in entries.values():
        if entry.kind in REPOSITORY_FIELD_KINDS and not fields_agree(entry, repo_json):
            found.append(Drifted(entry.key, entry, field_shape(entry, repo_json), entry.value))
    if not same_text(description, repo_json.get("description")):
        found.append(Drifted(DESCRIPTION, None, repo_json.get("description"), description))
    view = _GitHubView(applier, repo, repo_json)
    app_id = await applier.api.app_id() if "protection" in entries else None
    for entry in entries.values():
        if entry.kind in REPOSITORY_FIELD_KINDS:
            continue
        agrees, was = await view.compare(entry, github_ids, app_id)
        if not agrees:
            found.append(Drifted(entry.key, entry, was, entry.value))
    return found


def _step(entry: DesiredSetting) -> int:
    return STEP_ORDER.index(entry.kind) if entry.kind in STEP_ORDER else len(STEP_ORDER)


async def restore(
    applier: SettingsApplier,
    repo: Repository,
    drifted: Sequence[Drifted],
    github_ids: Mapping[str, int | None],
) -> dict[str, int | None]:
    """Put back what drifted, with the fewest requests: every repository field and the
    description in one ``PATCH``, then one request per other setting (protection last).

    Returns the GitHub id of each setting restored, by key (a re-made ruleset's is new).
    """
    fields = [
        d.entry for d in drifted if d.entry is not None and d.entry.kind in REPOSITORY_FIELD_KINDS
    ]
    body = repository_fields({e.key: e for e in fields})
    for item in drifted:
        if item.key == DESCRIPTION:
            body["description"] = item.wanted or ""
    if body:
        await applier.api.update_repository(repo.owner, repo.name, body)
    ids: dict[str, int | None] = {e.key: github_ids.get(e.key) for e in fields}
    rest = [
        (item, item.entry)
        for item in drifted
        if item.entry is not None and item.entry.kind not in (*REPOSITORY_FIELD_KINDS, "template")
    ]
    for item, entry in sorted(rest, key=lambda pair: _step(pair[1])):
        if entry.kind == "variables" and item.was is not None:
            # It exists with another value: change it (apply would try creating it first).
            try:
                await applier.api.update_variable(
                    repo.owner, repo.name, str(entry.name), entry.value
                )
            except NotFound:  # deleted since it was read
                await applier.apply(repo, entry)
            ids[entry.key] = github_ids.get(entry.key)
            continue
        # A ruleset known to be gone is made again at once (not first updated by its id).
        known = github_ids.get(entry.key) if item.was is not None else None
        ids[entry.key] = await applier.apply(repo, entry, known)
    return ids

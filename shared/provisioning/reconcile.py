"""Drift correction: compare a ready project's repository with what it declares, restore it.

Everything runs in :func:`~shared.reconcile_share.reconcile_lane`, so it draws from
drift correction's share of the GitHub budget. Secrets cannot be read back and are
not compared. A repository gone (or replaced by another of the same name) or
archived behind our back is reported as missing, not re-made.
"""

from __future__ import annotations

import structlog

from shared.projects.maintenance import MaintenanceOutcome, MaintenanceWork
from shared.provisioning.converge import Converger, repository_of
from shared.provisioning.drift import find_drift, restore
from shared.provisioning.settings.entries import desired_settings
from shared.reconcile_share import reconcile_lane

__all__ = ["reconcile"]

_log = structlog.get_logger(__name__)


async def reconcile(
    converger: Converger, work: MaintenanceWork, outcome: MaintenanceOutcome
) -> None:
    """One check of every managed setting and ``.project.yaml``; corrections go to
    ``outcome.drift`` as ``{setting: {"was": ..., "now": ...}}``."""
    repo = repository_of(work)
    with reconcile_lane():
        current = await converger.lifecycle.read(repo.owner, repo.name)
        outcome.reconciled = True
        if current is None or current.get("id") != repo.id:
            outcome.missing = "deleted"
            return
        if current.get("archived"):
            outcome.missing = "archived"
            return
        # Only what GitHub took: a refused setting is the sync's failure, not drift.
        entries = {
            key: entry
            for key, entry in desired_settings(work.repository_settings).items()
            if (saved := work.settings.get(key)) is not None and saved.digest == entry.digest
        }
        ids = {key: saved.github_id for key, saved in work.settings.items()}
        drifted = await find_drift(
            converger.applier,
            repo,
            current,
            entries,
            ids,
            description=work.description
            if outcome.description_applied
            else work.applied_description,
        )
        if drifted:
            new_ids = await restore(converger.applier, repo, drifted, ids)
            for item in drifted:
                outcome.drift[item.key] = {"was": item.was, "now": item.wanted}
            for key, github_id in new_ids.items():
                if key in entries and github_id != ids.get(key):
                    outcome.settings_applied[key] = (entries[key].digest, github_id)
        await converger.ensure_project_file(work, outcome, read_first=True)
    if outcome.drift:
        _log.info("reconcile.drift_corrected", settings=sorted(outcome.drift))

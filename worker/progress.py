"""The worker's :class:`~shared.provisioning.values.ProgressSink`: each outcome, one statement
that commits on its own.

Also reads a project's saved progress back, so a retry resumes where the last
attempt stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.engine import autocommit_scope
from shared.github.models import ActionsPublicKey, Repository
from shared.projects import progress, settings_rows
from shared.projects.models import Project, ProjectSetting
from shared.provisioning.values import AppliedSetting, EnsuredRepository, Progress

__all__ = ["DatabaseProgress", "saved_progress"]

_log = structlog.get_logger(__name__)


Write = Callable[[AsyncSession], Awaitable[None]]
WRITE_AFTER_S = 0.005
"""How long a reported outcome waits before its write starts, unless it is waited for: the
GitHub request that follows a step is sent within a millisecond or two."""


@dataclass(frozen=True)
class _SecretSet:
    """Secret ``name`` is set: consecutive ones are saved in one statement."""

    name: str


class DatabaseProgress:
    """Saves each step's outcome for ``project_id``'s ``generation`` as it happens.

    Each write is one statement that commits on its own (``autocommit_scope``), run in
    order in the background, so it overlaps the next GitHub request instead of delaying
    it: it starts :data:`WRITE_AFTER_S` after it is reported, by when that request is on
    its way (the job's event loop is one: a write started at once would spend its CPU
    in front of the request), or at once when something waits for it (:meth:`drain`).
    What is reported meanwhile goes out with it on one connection, consecutive secrets in
    one statement. A crash before a write lands only means that step is redone, as a
    crash just before it would. A failed write fails every later one and surfaces in
    :meth:`drain`.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        project_id: UUID,
        generation: int,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._project_id = project_id
        self._generation = generation
        self._pending: list[Write | _SecretSet] = []
        self._writer: asyncio.Task[None] | None = None
        self._waited_for = asyncio.Event()
        self._failed = False

    def _save(self, write: Write | _SecretSet) -> None:
        if self._failed:  # the writer's error surfaces in drain(); nothing after it is saved
            return
        self._pending.append(write)
        if self._writer is None or self._writer.done():
            self._waited_for.clear()
            self._writer = asyncio.create_task(self._write_pending())

    async def _write_pending(self) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._waited_for.wait(), WRITE_AFTER_S)
            while self._pending:
                batch, self._pending = self._pending, []
                async with autocommit_scope(self._sessionmaker) as session:
                    for write in self._coalesced(batch):
                        await write(session)
        except BaseException:
            self._failed = True
            self._pending.clear()
            raise

    def _coalesced(self, batch: Sequence[Write | _SecretSet]) -> Iterator[Write]:
        """The batch's writes in order, each run of secrets as one."""
        names: list[str] = []
        for write in batch:
            if isinstance(write, _SecretSet):
                names.append(write.name)
                continue
            if names:
                yield self._secrets_set(names)
                names = []
            yield write
        if names:
            yield self._secrets_set(names)

    def _secrets_set(self, names: Sequence[str]) -> Write:
        return partial(progress.record_secrets_set, project_id=self._project_id, names=names)

    async def drain(self) -> None:
        """Wait until every outcome reported so far is committed (raises if one failed)."""
        if self._writer is not None:
            self._waited_for.set()
            await self._writer

    async def settle(self) -> None:
        """Like :meth:`drain`, but a failed write is only logged: its step is redone later."""
        try:
            await self.drain()
        except Exception as exc:
            _log.warning("job.progress_not_saved", error=f"{type(exc).__name__}: {exc}")

    async def repository_ensured(self, repo: EnsuredRepository) -> None:
        """Save the repository's identity and whether we created it."""
        found = repo.repository
        self._save(
            partial(
                progress.record_repository,
                project_id=self._project_id,
                generation=self._generation,
                github_id=found.id,
                owner=found.owner,
                full_name=found.full_name,
                html_url=found.html_url,
                clone_url=found.clone_url,
                default_branch=found.default_branch,
                created=repo.created,
            )
        )

    async def create_sending(self, sent_at: datetime) -> None:
        """Save, before the request goes out, when a create request is sent."""
        self._save(
            partial(
                progress.record_create_sent,
                project_id=self._project_id,
                generation=self._generation,
                sent_at=sent_at,
            )
        )
        await self.drain()

    async def project_file_committed(self, sha: str, digest: str) -> None:
        """Save the committed ``.project.yaml``'s blob sha and digest."""
        self._save(
            partial(
                progress.record_project_file,
                project_id=self._project_id,
                generation=self._generation,
                sha=sha,
                digest=digest,
            )
        )

    async def actions_key_fetched(self, key: ActionsPublicKey) -> None:
        """Save the repository's public secrets key."""
        self._save(
            partial(
                progress.record_actions_key,
                project_id=self._project_id,
                generation=self._generation,
                key_id=key.key_id,
                key=key.key,
            )
        )

    async def secret_set(self, name: str) -> None:
        """Mark the secret set and wipe its value."""
        self._save(_SecretSet(name))

    async def settings_reset(self) -> None:
        """A new repository: every setting back to ``pending``."""
        self._save(
            partial(
                settings_rows.record_settings_reset,
                project_id=self._project_id,
                generation=self._generation,
            )
        )

    async def setting_applied(self, key: str, digest: str, github_id: int | None) -> None:
        """Save the setting as applied, with its value's digest."""
        self._save(
            partial(
                settings_rows.record_setting_applied,
                project_id=self._project_id,
                generation=self._generation,
                key=key,
                digest=digest,
                github_id=github_id,
            )
        )

    async def setting_failed(self, key: str, code: str, message: str) -> None:
        """Save the setting as refused."""
        self._save(
            partial(
                settings_rows.record_setting_failed,
                project_id=self._project_id,
                generation=self._generation,
                key=key,
                code=code,
                message=message,
            )
        )


def saved_progress(
    project: Project,
    sent_creates: tuple[datetime, ...] = (),
    settings: Mapping[str, ProjectSetting] | None = None,
) -> Progress:
    """What earlier attempts of the project (its generation, and the settings) finished."""
    repo = None
    if project.repo_github_id is not None and project.repo_full_name and project.repo_owner:
        repo = EnsuredRepository(
            repository=Repository(
                id=project.repo_github_id,
                owner=project.repo_owner,
                name=project.repo_full_name.partition("/")[2],
                full_name=project.repo_full_name,
                html_url=project.repo_html_url or "",
                clone_url=project.repo_clone_url or "",
                default_branch=project.repo_default_branch or "main",
                private=True,
                created_at=None,
                size=0,
            ),
            created=bool(project.repo_created),
        )
    key = None
    if project.actions_key_id and project.actions_public_key:
        key = ActionsPublicKey(key_id=project.actions_key_id, key=project.actions_public_key)
    return Progress(
        repository=repo,
        project_file_digest=project.project_file_digest,
        project_file_sha=project.project_file_sha,
        actions_key=key,
        sent_creates=sent_creates,
        settings={
            name: AppliedSetting(row.digest, row.github_id)
            for name, row in (settings or {}).items()
            if row.digest is not None
        },
    )

"""Provisioning as idempotent steps: run them any number of times and they converge.

1. :meth:`Provisioner.ensure_repository` creates the repository, or adopts the
   one that already carries this project's ``.project.yaml`` (or that our own
   earlier attempt created and never got to mark).
2. :meth:`Provisioner.ensure_project_file` commits ``.project.yaml`` unless it
   already holds exactly these bytes.
3. The repository settings not applied yet, one request each
   (:mod:`shared.provisioning.settings.steps`); what the create request can
   carry (visibility, homepage, features, merge, custom properties) goes in it.
4. :meth:`Provisioner.ensure_secrets` checks every secret against GitHub's rules,
   then sets them and reports, per secret, what happened.

On the happy path with a cached token this costs: create, one PUT for the
file, one GET for the public key and one PUT per secret. Each step's outcome
goes to a :class:`~shared.provisioning.values.ProgressSink` as it happens, and
:meth:`Provisioner.provision` skips what the given ``Progress`` says is done,
so a retry asks GitHub nothing about finished steps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import structlog
from pydantic import SecretStr

from shared.github.client import GitHubClient
from shared.github.errors import (
    Conflict,
    GitHubError,
    GitHubHTTPError,
    NotFound,
    RepositoryNameTaken,
    RepositoryNotYetVisible,
)
from shared.github.models import ActionsPublicKey, Repository
from shared.provisioning.errors import (
    ContinueLater,
    NameTakenByOther,
    SecretsIncomplete,
    SecretsRejected,
    SettingsRejected,
)
from shared.provisioning.project_file import PROJECT_FILE_PATH, project_id_in
from shared.provisioning.secret_rules import check_secrets
from shared.provisioning.settings.apply import SettingsApplier, rejection
from shared.provisioning.settings.entries import create_body_fields
from shared.provisioning.settings.steps import (
    create_body_rejections,
    ensure_settings,
    settings_made_with,
)
from shared.provisioning.values import (
    EnsuredRepository,
    NoProgressKept,
    Progress,
    ProgressSink,
    ProjectSpec,
    ProvisionResult,
    SecretOutcome,
    file_digest,
)

__all__ = ["DEFAULT_VISIBILITY_DELAYS_S", "Provisioner"]

DEFAULT_VISIBILITY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
"""Waits between tries while a new repository still answers 404 (PrairieLearn's fix)."""
CLAIM_CLOCK_SKEW = timedelta(minutes=2)
"""How far GitHub's clock may be from ours."""
CREATE_WINDOW = timedelta(minutes=2)
"""How long after our create request went out GitHub may still have made the repository
(its tries, timeouts and the clock skew); a repository made later is not ours."""
_log = structlog.get_logger(__name__)
T = TypeVar("T")


class Provisioner:
    """Runs the provisioning steps for one project at a time with a shared client."""

    def __init__(
        self,
        github: GitHubClient,
        *,
        private: bool = True,
        visibility_delays_s: Sequence[float] = DEFAULT_VISIBILITY_DELAYS_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._github = github
        self._settings = SettingsApplier(github)
        self._private = private
        self._delays = tuple(visibility_delays_s)
        self._sleep = sleep

    async def _once_visible(self, repo: EnsuredRepository, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call``; while a repository we just created answers 404, wait and run it again."""
        for delay in (*self._delays, None):
            try:
                return await call()
            except NotFound as exc:
                if not repo.created:
                    raise
                if delay is None:
                    raise _not_visible(
                        f"{repo.repository.full_name} still answers 404 after creation", exc
                    ) from exc
                _log.info(
                    "provisioning.repo_not_yet_visible",
                    repo=repo.repository.full_name,
                    wait_s=delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def ensure_repository(
        self,
        spec: ProjectSpec,
        *,
        sent_creates: Sequence[datetime] = (),
        sink: ProgressSink | None = None,
    ) -> EnsuredRepository:
        """Create the project's repository, or adopt the one that is already ours.

        A repository with the name is ours when its ``.project.yaml`` names this
        project, or when it is empty and was created within :data:`CREATE_WINDOW`
        of one of our earlier create requests (``sent_creates``; or of this one when an
        earlier try of it got no answer): a create whose answer, or whose record, was
        lost. Anything else is someone else's (:class:`NameTakenByOther`). Each create
        request is saved to ``sink`` before it goes out, so that a later attempt can
        recognise what it made whatever happens to this process.
        """
        installation = await self._github.installation()
        org = installation.account_login
        sent_at = datetime.now(UTC)
        if sink is not None:
            await sink.create_sending(sent_at)
        template = spec.settings.get("template")
        try:
            if template is not None:
                repository = await self._settings.api.create_from_template(
                    str(template.value),
                    owner=org,
                    name=spec.repo_name,
                    description=spec.description,
                    private=self._private_asked(spec),
                )
            else:
                repository = await self._github.create_org_repository(
                    org,
                    spec.repo_name,
                    description=spec.description,
                    private=self._private,
                    fields=create_body_fields(spec.settings),
                )
        except RepositoryNameTaken as taken:
            # An earlier try of this very request that got no answer may have made it.
            ours = [*sent_creates, sent_at] if taken.after_retries else sent_creates
            return await self._adopt(spec, org, ours)
        except GitHubHTTPError as exc:
            blamed = [template] if template is not None else list(spec.settings.values())
            problems = create_body_rejections({e.key: e for e in blamed}, exc, org)
            if template is not None and (why := rejection(template, exc, org)) is not None:
                problems = {template.key: why}
            if not problems:
                raise
            for key, why in problems.items():
                if sink is not None:
                    await sink.setting_failed(key, SettingsRejected.code, f"{key}: {why}")
            raise SettingsRejected(problems) from exc
        _log.info("provisioning.repo_created", repo=repository.full_name)
        return EnsuredRepository(repository=repository, created=True, body_applied=not template)

    def _private_asked(self, spec: ProjectSpec) -> bool:
        visibility = spec.settings.get("visibility")
        return self._private if visibility is None else visibility.value != "public"

    async def _adopt(
        self, spec: ProjectSpec, org: str, creates: Sequence[datetime]
    ) -> EnsuredRepository:
        try:
            repository = await self._github.get_repository(org, spec.repo_name)
        except NotFound as exc:
            # Taken, yet invisible to us: GitHub is still settling a creation.
            raise _not_visible(
                f"{org}/{spec.repo_name} exists but is not visible yet", exc
            ) from exc
        existing = await self._github.get_file(repository.owner, repository.name, PROJECT_FILE_PATH)
        claimed_by = project_id_in(existing.content) if existing is not None else None
        if claimed_by == str(spec.id):
            _log.info("provisioning.repo_adopted", repo=repository.full_name, why="project_file")
            return EnsuredRepository(repository=repository, created=False, project_file=existing)
        if existing is None and _created_by_one_of(repository, creates):
            _log.info("provisioning.repo_adopted", repo=repository.full_name, why="our_creation")
            # Made by our own create request, so with the settings it carried.
            return EnsuredRepository(
                repository=repository, created=False, body_applied="template" not in spec.settings
            )
        raise NameTakenByOther(repository.full_name, claimed_by=claimed_by)

    async def ensure_project_file(
        self, spec: ProjectSpec, repo: EnsuredRepository, *, known_sha: str | None = None
    ) -> tuple[bool, str]:
        """Commit ``.project.yaml`` unless it already has these bytes.

        Returns whether it committed and the file's blob sha. ``known_sha`` is the
        blob an earlier attempt committed: the update goes out without reading
        the file first (if someone changed it since, GitHub's 409 makes us read it).
        """
        wanted = spec.project_file()
        owner, name = repo.repository.owner, repo.repository.name
        current = repo.project_file
        if current is None and known_sha is None and not repo.created:
            current = await self._github.get_file(owner, name, PROJECT_FILE_PATH)
        if current is not None and current.content == wanted:
            return False, current.sha
        sha = current.sha if current is not None else known_sha
        try:
            new_sha = await self._put_project_file(repo, wanted, sha)
        except Conflict:
            current = await self._github.get_file(owner, name, PROJECT_FILE_PATH)
            if current is not None and current.content == wanted:
                return False, current.sha
            new_sha = await self._put_project_file(repo, wanted, current.sha if current else None)
        _log.info("provisioning.project_file_committed", repo=repo.repository.full_name)
        return True, new_sha

    async def _put_project_file(
        self, repo: EnsuredRepository, content: bytes, sha: str | None
    ) -> str:
        owner, name = repo.repository.owner, repo.repository.name
        message = "Add .project.yaml" if sha is None else "Update .project.yaml"
        return await self._once_visible(
            repo,
            lambda: self._github.put_file(
                owner, name, PROJECT_FILE_PATH, content=content, message=message, sha=sha
            ),
        )

    async def ensure_secrets(
        self,
        repo: EnsuredRepository,
        secrets: Mapping[str, SecretStr],
        *,
        sink: ProgressSink,
        key: ActionsPublicKey | None = None,
        deadline: float | None = None,
    ) -> dict[str, SecretOutcome]:
        """Set every secret, saving each to ``sink`` as it lands; raise
        :class:`SecretsIncomplete` naming any that are not set.

        Nothing is sent when any secret breaks GitHub's rules
        (:class:`SecretsRejected`). A transient failure stops the run and leaves
        the rest ``pending``; a permanent one marks that secret ``failed`` and
        moves on. ``key`` is the repository's key as an earlier attempt read it.
        Past ``deadline`` (``time.monotonic()``) the run stops with
        :class:`ContinueLater`: the job goes on in a fresh one.
        """
        problems = check_secrets(_revealed(secrets))
        if problems:
            raise SecretsRejected(problems)
        outcomes: dict[str, SecretOutcome] = {}
        if not secrets:
            return outcomes
        owner, name = repo.repository.owner, repo.repository.name
        stopped_by: GitHubError | None = None
        try:
            if key is not None:
                self._github.remember_public_key(owner, name, key)
            else:
                key = await self._once_visible(
                    repo, lambda: self._github.get_actions_public_key(owner, name)
                )
                await sink.actions_key_fetched(key)
        except GitHubError as exc:
            stopped_by = exc
        for secret_name, value in secrets.items():
            if stopped_by is None and deadline is not None and time.monotonic() > deadline:
                raise ContinueLater(f"{len(secrets) - len(outcomes)} secrets left to set")
            if stopped_by is not None:
                outcomes[secret_name] = SecretOutcome("pending", stopped_by.code, str(stopped_by))
                continue
            try:
                await self._once_visible(
                    repo,
                    partial(self._github.set_actions_secret, owner, name, secret_name, value),
                )
            except GitHubError as exc:
                if not exc.spends_attempt:  # a pause, not a failure: the job resumes here
                    raise
                _log.warning(
                    "provisioning.secret_failed",
                    secret=secret_name,
                    code=exc.code,
                    transient=exc.transient,
                )
                if exc.transient:
                    stopped_by = exc
                    outcomes[secret_name] = SecretOutcome("pending", exc.code, str(exc))
                else:
                    outcomes[secret_name] = SecretOutcome("failed", exc.code, str(exc))
                continue
            await sink.secret_set(secret_name)
            outcomes[secret_name] = SecretOutcome("set")
        if any(o.state != "set" for o in outcomes.values()):
            permanent = any(o.state == "failed" for o in outcomes.values())
            raise SecretsIncomplete(
                outcomes,
                transient=not permanent,
                retry_after=stopped_by.retry_after if stopped_by is not None else None,
            )
        _log.info("provisioning.secrets_set", count=len(outcomes))
        return outcomes

    async def provision(
        self,
        spec: ProjectSpec,
        secrets: Mapping[str, SecretStr],
        *,
        progress: Progress | None = None,
        sink: ProgressSink | None = None,
        deadline: float | None = None,
    ) -> ProvisionResult:
        """Every step not finished yet, in order; each outcome goes to ``sink`` as it happens.

        ``progress`` is what earlier attempts finished (their steps cost no request);
        ``secrets`` are the ones still to set. Secrets are checked before GitHub
        is asked anything.
        """
        problems = check_secrets(_revealed(secrets))
        if problems:
            raise SecretsRejected(problems)
        progress = progress or Progress()
        sink = sink or NoProgressKept()
        repo = progress.repository
        applied = dict(progress.settings)
        if repo is None:
            repo = await self.ensure_repository(spec, sent_creates=progress.sent_creates, sink=sink)
            await sink.repository_ensured(repo)
            applied = await settings_made_with(repo, spec, applied, sink)
        digest = file_digest(spec.project_file())
        committed = False
        if progress.project_file_digest != digest:
            committed, sha = await self.ensure_project_file(
                spec, repo, known_sha=progress.project_file_sha
            )
            await sink.project_file_committed(sha, digest)
        await ensure_settings(
            self._settings,
            repo.repository,
            spec.settings,
            applied,
            sink=sink,
            retrying=_at_once,  # the file step has seen the repository: a 404 now is real
        )
        outcomes = await self.ensure_secrets(
            repo, secrets, sink=sink, key=progress.actions_key, deadline=deadline
        )
        return ProvisionResult(
            repository=repo.repository,
            created=repo.created,
            file_committed=committed,
            secrets=outcomes,
        )


async def _at_once(call: Callable[[], Awaitable[T]]) -> T:
    return await call()


def _not_visible(message: str, cause: NotFound) -> RepositoryNotYetVisible:
    return RepositoryNotYetVisible(message, status=404, method=cause.method, path=cause.path)


def _created_by_one_of(repository: Repository, creates: Sequence[datetime]) -> bool:
    """Empty, and created within the window of one of our unanswered create requests."""
    created = repository.created_at
    if created is None or repository.size != 0:
        return False
    return any(t - CLAIM_CLOCK_SKEW <= created <= t + CREATE_WINDOW for t in creates)


def _revealed(secrets: Mapping[str, SecretStr]) -> dict[str, str]:
    """The values, for checking them against GitHub's rules (never logged or kept)."""
    return {name: value.get_secret_value() for name, value in secrets.items()}

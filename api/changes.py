"""Project change notifications for long polls: one LISTEN connection per API process.

PostgreSQL announces every committed change of a project
(``NOTIFY project_changed, '<id>:<version>'``, a trigger from migration 0002).
Waiters hold no database connection while they wait: they subscribe to an
:class:`asyncio.Event` here and re-read the project when it is set.

The LISTEN connection is checked with ``SELECT 1`` every ``heartbeat_s`` (a
silently dead one is noticed within ``heartbeat_s + heartbeat_timeout_s``);
after any error it is re-established with backoff and every waiter is woken
to re-read. While it is down, one shared poll every ``fallback_every_s``
stands in for the notifications: one query for the versions of every waited
project (with a ``sessionmaker``; without one, every waited project is woken),
then one shared read per changed project, however many wait on it.

:meth:`ProjectChanges.subscribe_all` is for those who watch the whole fleet (the
ops console's live pages): its event is set on every change, and
:attr:`ProjectChanges.fleet_version` counts the changes this process has seen.
While the listener is down each fallback tick sets it (anything may have changed).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import structlog
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.projects import repository

__all__ = ["CHANNEL", "ProjectChanges"]

CHANNEL = "project_changed"
T = TypeVar("T")
_log = structlog.get_logger(__name__)


def _asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _setter(event: asyncio.Event) -> Any:
    return lambda _connection: event.set()


class ProjectChanges:
    """Fans PostgreSQL notifications out to the requests waiting on a project."""

    def __init__(
        self,
        database_url: str,
        *,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        application_name: str = "provisioner-api-listen",
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        heartbeat_s: float = 5.0,
        heartbeat_timeout_s: float = 3.0,
        fallback_every_s: float = 1.0,
    ) -> None:
        self._dsn = _asyncpg_dsn(database_url)
        self._sessionmaker = sessionmaker
        self.application_name = application_name
        self._min_backoff = min_backoff_s
        self._max_backoff = max_backoff_s
        self._heartbeat = heartbeat_s
        self._heartbeat_timeout = heartbeat_timeout_s
        self._fallback_every = fallback_every_s
        self._waiters: defaultdict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._seen: dict[uuid.UUID, int] = {}
        """Wake-ups per waited-on project: a shared read is valid until the next one."""
        self._versions: dict[uuid.UUID, int] = {}
        """The last version the fallback poll saw of each waited-on project."""
        self._reads: dict[uuid.UUID, tuple[int, asyncio.Future[Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._fleet: set[asyncio.Event] = set()
        self._fleet_changes = 0
        self._boot = secrets.token_hex(4)
        self._listening = asyncio.Event()
        self.notifications = 0
        self.connections = 0
        """LISTEN connections established so far (more than one: it recovered)."""
        self.fallback_polls = 0

    @property
    def listening(self) -> bool:
        """Whether notifications arrive right now (else the fallback poll wakes waiters)."""
        return self._listening.is_set()

    @property
    def waiting(self) -> int:
        """How many requests are waiting now."""
        return sum(len(events) for events in self._waiters.values())

    @property
    def fleet_version(self) -> str:
        """Names how many changes of any project this process has seen (``<boot>.<n>``):
        a watcher holding the same value has missed none."""
        return f"{self._boot}.{self._fleet_changes}"

    @contextlib.contextmanager
    def subscribe_all(self) -> Iterator[asyncio.Event]:
        """An event set whenever any project changes, for the duration of the block."""
        event = asyncio.Event()
        self._fleet.add(event)
        try:
            yield event
        finally:
            self._fleet.discard(event)

    def _fleet_changed(self) -> None:
        self._fleet_changes += 1
        for event in self._fleet:
            event.set()

    async def start(self, *, ready_within_s: float = 5.0) -> None:
        """Start listening; returns once listening or after ``ready_within_s`` regardless."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="project-changes"),
            asyncio.create_task(self._fallback_forever(), name="project-changes-fallback"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), ready_within_s)

    async def stop(self) -> None:
        """Stop listening and wake every waiter."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._wake_all()

    @contextlib.contextmanager
    def subscribe(self, project_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """An event set whenever ``project_id`` changes, for the duration of the block."""
        event = asyncio.Event()
        self._waiters[project_id].add(event)
        try:
            yield event
        finally:
            events = self._waiters.get(project_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[project_id]
                    self._seen.pop(project_id, None)
                    self._versions.pop(project_id, None)
                    self._reads.pop(project_id, None)

    async def read_once(self, project_id: uuid.UUID, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``, shared by every waiter of ``project_id`` woken by the same wake-up.

        500 agents woken by one transition cost one database read, not 500; so
        do 500 agents re-checking while the listener is down (the fallback poll
        wakes them).
        """
        seq = self._seen.get(project_id, 0)
        cached = self._reads.get(project_id)
        if cached is not None and cached[0] == seq:
            result: T = await asyncio.shield(cached[1])
            return result
        future: asyncio.Future[T] = asyncio.ensure_future(load())
        self._reads[project_id] = (seq, future)
        try:
            return await asyncio.shield(future)
        except BaseException:
            if self._reads.get(project_id, (None, None))[1] is future:
                del self._reads[project_id]
            raise

    def _wake(self, project_id: uuid.UUID) -> None:
        events = self._waiters.get(project_id)
        if events:
            self._seen[project_id] = self._seen.get(project_id, 0) + 1
            for event in events:
                event.set()

    def _wake_all(self) -> None:
        self._fleet_changed()
        for project_id in list(self._waiters):
            self._wake(project_id)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notifications += 1
        self._fleet_changed()
        try:
            project_id = uuid.UUID(payload.partition(":")[0])
        except ValueError:
            return
        self._wake(project_id)

    async def _listen_forever(self) -> None:
        backoff = self._min_backoff
        while True:
            try:
                await self._listen()
                backoff = self._min_backoff  # it was listening: the next try is quick
                _log.warning("changes.connection_lost", retry_in_s=backoff)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                _log.warning("changes.listen_failed", error=repr(exc), retry_in_s=backoff)
            except Exception as exc:  # whatever it was, listening must come back
                _log.exception("changes.listen_error", error=repr(exc), retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _listen(self) -> None:
        """Listen until the connection is lost or misses a heartbeat."""
        connection = await asyncpg.connect(
            self._dsn,
            timeout=5,
            server_settings={"application_name": self.application_name},
        )
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(_setter(lost))
            await connection.add_listener(CHANNEL, self._on_notify)
            self.connections += 1
            self._listening.set()
            self._wake_all()  # anything may have changed while we were not listening
            _log.info("changes.listening")
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._heartbeat)
                if not lost.is_set():
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), self._heartbeat_timeout)
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 1)
            if not connection.is_closed():
                connection.terminate()

    async def _fallback_forever(self) -> None:
        while True:
            await asyncio.sleep(self._fallback_every)
            if self.listening:
                continue
            if self._fleet:
                self._fleet_changed()
            if not self._waiters:
                continue
            try:
                await self._fallback_poll()
            except Exception as exc:
                _log.warning("changes.fallback_failed", error=repr(exc))

    async def _fallback_poll(self) -> None:
        """One query for every waited project's version; wake those that changed."""
        self.fallback_polls += 1
        if self._sessionmaker is None:
            self._wake_all()
            return
        waited = list(self._waiters)
        async with self._sessionmaker() as session:
            versions = await repository.project_versions(session, waited)
        for project_id in waited:
            version = versions.get(project_id)
            if version is None or self._versions.get(project_id) != version:
                if version is not None and project_id in self._waiters:
                    self._versions[project_id] = version
                self._wake(project_id)

"""Project change notifications for long polls: one LISTEN connection per API process.

PostgreSQL announces every committed change of a project
(``NOTIFY project_changed, '<id>:<version>'``, a trigger from migration 0002).
Waiters hold no database connection while they wait: they subscribe to an
:class:`asyncio.Event` here and re-read the project when it is set. If the
LISTEN connection is lost, it is re-established with backoff and every waiter
is woken to re-check; until then waiters re-check once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import structlog
from sqlalchemy import make_url

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

    def __init__(self, database_url: str, *, max_backoff_s: float = 10.0) -> None:
        self._dsn = _asyncpg_dsn(database_url)
        self._max_backoff = max_backoff_s
        self._waiters: defaultdict[uuid.UUID, set[asyncio.Event]] = defaultdict(set)
        self._seen: dict[uuid.UUID, int] = {}
        """Notifications per waited-on project: a shared read is valid until the next one."""
        self._reads: dict[uuid.UUID, tuple[int, asyncio.Future[Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.notifications = 0

    @property
    def listening(self) -> bool:
        """Whether notifications arrive right now (else waiters must re-check on their own)."""
        return self._listening.is_set()

    @property
    def waiting(self) -> int:
        """How many requests are waiting now."""
        return sum(len(events) for events in self._waiters.values())

    async def start(self, *, ready_within_s: float = 5.0) -> None:
        """Start listening; returns once listening or after ``ready_within_s`` regardless."""
        self._task = asyncio.create_task(self._listen_forever(), name="project-changes")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), ready_within_s)

    async def stop(self) -> None:
        """Stop listening and wake every waiter."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
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
                    self._reads.pop(project_id, None)

    async def read_once(self, project_id: uuid.UUID, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``, shared by every waiter of ``project_id`` woken by the same notification.

        500 agents woken by one transition cost one database read, not 500. Without
        notifications (listener down) every call loads on its own.
        """
        seq = self._seen.get(project_id, 0)
        cached = self._reads.get(project_id)
        if cached is not None and cached[0] == seq and self.listening:
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

    def _wake_all(self) -> None:
        for project_id in self._waiters:
            self._seen[project_id] = self._seen.get(project_id, 0) + 1
        for events in self._waiters.values():
            for event in events:
                event.set()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notifications += 1
        try:
            project_id = uuid.UUID(payload.partition(":")[0])
        except ValueError:
            return
        events = self._waiters.get(project_id)
        if events:
            self._seen[project_id] = self._seen.get(project_id, 0) + 1
            for event in events:
                event.set()

    async def _listen_forever(self) -> None:
        backoff = 0.2
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=5,
                    server_settings={"application_name": "provisioner-api-listen"},
                )
            except (OSError, asyncpg.PostgresError) as exc:
                _log.warning("changes.connect_failed", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            try:
                connection.add_termination_listener(_setter(lost))
                await connection.add_listener(CHANNEL, self._on_notify)
                self._listening.set()
                backoff = 0.2
                self._wake_all()  # anything may have changed while we were not listening
                _log.info("changes.listening")
                await lost.wait()
                _log.warning("changes.connection_lost")
            finally:
                self._listening.clear()
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)

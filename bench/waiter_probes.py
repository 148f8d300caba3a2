"""The machinery of ``bench.waiters``: the crowd of long-polling clients, the samplers, the
worker-side transition and the per-phase counters it reads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias
from uuid import UUID

import asyncpg
import httpx

from cli.harness import Stack, plain_dsn

WARMUP_WAITERS = 20
CROWD = 500
SHARDS = 20
"""Second client configuration: the waiters spread over this many AsyncClients."""
WAIT_S = 50
SAMPLE_EVERY_S = 0.02
PARK_TIMEOUT_S = 30.0
TIME_LIMIT_S = 150.0
POOL_SIZE = os.environ.get("DB_POOL_SIZE", "10")
MAX_OVERFLOW = os.environ.get("DB_MAX_OVERFLOW", "0")
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_BUMP = "UPDATE projects SET version = version + 1, updated_at = now() WHERE id = $1"
_ACTIVITY = """
SELECT count(*) FILTER (WHERE application_name = 'provisioner-api'),
       count(*) FILTER (WHERE application_name = 'provisioner-api' AND state <> 'idle'),
       count(*) FILTER (WHERE application_name = 'provisioner-api-listen')
FROM pg_stat_activity WHERE datname = current_database()
"""


# --- small helpers ---------------------------------------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


class CpuWindow:
    """CPU share of one core used by the API process and by this one over a window."""

    def __init__(self, api_pid: int) -> None:
        self._pid = api_pid
        self._wall = time.perf_counter()
        self._api = _proc_cpu_s(api_pid)
        self._self = time.process_time()
        self.api = self.client = 0.0

    def stop(self) -> None:
        """Close the window and compute the shares."""
        wall = max(time.perf_counter() - self._wall, 1e-9)
        self.api = (_proc_cpu_s(self._pid) - self._api) / wall
        self.client = (time.process_time() - self._self) / wall


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def pct(share: float) -> str:
    return f"{share * 100:.0f}%"


async def _metrics(http: httpx.AsyncClient, counters: Counters) -> dict[str, float]:
    """The API's ``/metrics`` gauges and counters (plain ``name value`` lines only)."""
    while True:
        try:
            text = (await http.get("/metrics")).text
            break
        except httpx.TransportError:  # a keep-alive connection the server closed meanwhile
            counters.metrics_retries += 1
    values: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("provisioner_") and "{" not in name:
            values[name] = float(value)
    return values


@dataclass
class Counters:
    """What went wrong on the client side (nothing, ideally)."""

    retries: int = 0
    """Waiters' GETs sent again after an ``httpx.TransportError``."""
    metrics_retries: int = 0
    """``/metrics`` reads (benchmark's own) sent again after an ``httpx.TransportError``."""
    unexpected: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    """Answers other than 200, by status code."""


async def _get(
    http: httpx.AsyncClient, path: str, counters: Counters, **kwargs: Any
) -> httpx.Response:
    """``GET path``, sent again for as long as it fails with a transport error."""
    while True:
        try:
            return await http.get(path, **kwargs)
        except httpx.TransportError:  # keep-alive races: the agents ask again
            counters.retries += 1


# --- samplers --------------------------------------------------------------------------------


class Sampler:
    """Peaks of connection counts per phase, sampled every 20 ms while ``phase`` is set.

    Runs in its own thread and event loop (own asyncpg connection, own HTTP client), so
    a busy load generator delays it by at most a GIL switch interval (5 ms).
    """

    def __init__(self, database_url: str, api_url: str) -> None:
        self.counters = Counters()
        """This thread's own (the main thread has its own)."""
        self._database_url = database_url
        self._api_url = api_url
        self.phase: str | None = None
        self.peaks: defaultdict[str, dict[str, int]] = defaultdict(dict)
        self.samples: defaultdict[str, dict[str, int]] = defaultdict(dict)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._error: BaseException | None = None

    def _record(self, phase: str, kind: str, values: dict[str, int]) -> None:
        peaks = self.peaks[phase]
        for name, value in values.items():
            peaks[name] = max(peaks.get(name, 0), value)
        self.samples[phase][kind] = self.samples[phase].get(kind, 0) + 1

    async def _database(self, monitor: asyncpg.Connection) -> None:
        while not self._stop.is_set():
            phase = self.phase
            if phase is not None:
                row = await monitor.fetchrow(_ACTIVITY)
                values = {"api": int(row[0]), "api_active": int(row[1]), "listen": int(row[2])}
                self._record(phase, "database", values)
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def _gauges(self, http: httpx.AsyncClient) -> None:
        while not self._stop.is_set():
            phase = self.phase
            if phase is not None:
                gauges = await _metrics(http, self.counters)
                checked_out = int(gauges.get("provisioner_db_connections_checked_out", 0))
                self._record(phase, "metrics", {"checked_out": checked_out})
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def _main(self) -> None:
        monitor = await connect(self._database_url, "provisioner-bench-monitor")
        try:
            async with httpx.AsyncClient(base_url=self._api_url, timeout=10) as http:
                await asyncio.gather(self._database(monitor), self._gauges(http))
        finally:
            await monitor.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by stop()
            self._error = exc

    def start(self) -> None:
        """Start sampling (nothing is recorded until ``phase`` is set)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling; raise what went wrong in the sampler, if anything did."""
        self._stop.set()
        self._thread.join(timeout=10)
        if self._error is not None:
            raise RuntimeError("the connection sampler failed") from self._error


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class WakeRound:
    """One round of the latency part: each waiter's arrival − t0, and CPU shares."""

    latencies: list[float]
    api_cpu: float
    client_cpu: float


Pools: TypeAlias = Sequence[httpx.AsyncClient]
"""The waiters' clients: waiter ``i`` sends its GETs through ``pools[i % len(pools)]``."""


@contextlib.asynccontextmanager
async def open_pools(api_url: str, token: str, waiters: int, shards: int) -> AsyncIterator[Pools]:
    """``shards`` clients sharing ``waiters``, each with ``max_connections`` = its share + 10."""
    share = -(-waiters // shards)
    limits = httpx.Limits(max_connections=share + 10, max_keepalive_connections=share + 10)
    timeout = httpx.Timeout(WAIT_S + 10, connect=10)
    auth = {"Authorization": f"Bearer {token}"}
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=api_url, headers=auth, limits=limits, timeout=timeout)
            )
            for _ in range(shards)
        ]


@dataclass
class Bench:
    """What every round uses. ``control`` sends the POST and the ``/metrics`` reads."""

    stack: Stack
    control: httpx.AsyncClient
    bumper: asyncpg.Connection
    sampler: Sampler
    project_id: str
    etag: str
    counters: Counters = field(default_factory=Counters)

    @property
    def path(self) -> str:
        """The project's URL path."""
        return f"/api/projects/{self.project_id}"

    async def until_parked(self, count: int) -> None:
        """Until ``count`` requests wait and no pool connection is lent out, twice in a row."""
        deadline = time.monotonic() + PARK_TIMEOUT_S
        in_a_row = 0
        while in_a_row < 2:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} waiters not parked after {PARK_TIMEOUT_S:g} s")
            gauges = await _metrics(self.control, self.counters)
            parked = (
                gauges.get("provisioner_long_polls_waiting") == count
                and gauges.get("provisioner_db_connections_checked_out") == 0
            )
            in_a_row = in_a_row + 1 if parked else 0
            await asyncio.sleep(0.005)

    async def long_poll(self, http: httpx.AsyncClient, etag: str) -> tuple[float, httpx.Response]:
        """One long poll (sent again after transport errors); its arrival ``perf_counter()``."""
        answer = await _get(
            http, self.path, self.counters,
            params={"wait": WAIT_S}, headers={"If-None-Match": etag},
        )  # fmt: skip
        return time.perf_counter(), answer

    async def _bump(self) -> float:
        """Commit a version bump of the project; ``perf_counter()`` right after COMMIT."""
        async with self.bumper.transaction():
            await self.bumper.execute(_BUMP, UUID(self.project_id))
        return time.perf_counter()

    async def wake_round(self, pools: Pools, count: int, *, phase: str | None) -> WakeRound:
        """Park ``count`` waiters on the current ETag, bump the version, time the answers."""
        self.sampler.phase = phase and f"{phase}: parking and parked"
        tasks = [
            asyncio.create_task(self.long_poll(pools[i % len(pools)], self.etag))
            for i in range(count)
        ]
        try:
            await self.until_parked(count)
            cpu = CpuWindow(self.stack.children.pid("api"))
            self.sampler.phase = phase and f"{phase}: being woken"
            t0 = await self._bump()
            answers = await asyncio.gather(*tasks)
            cpu.stop()
        finally:
            self.sampler.phase = None
            for task in tasks:
                task.cancel()
        latencies: list[float] = []
        for arrived, answer in answers:
            if answer.status_code != 200:
                self.counters.unexpected[answer.status_code] += 1
                continue
            latencies.append(arrived - t0)
            self.etag = answer.headers["etag"]
        if not latencies:
            raise RuntimeError(f"no waiter of {count} got a 200")
        return WakeRound(latencies, cpu.api, cpu.client)

    async def reference_burst(self, pools: Pools, count: int) -> float:
        """``count`` concurrent plain GETs (no ``wait``): seconds until the last answer."""
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(_get(pools[i % len(pools)], self.path, self.counters) for i in range(count))
        )
        elapsed = time.perf_counter() - started
        for answer in answers:
            if answer.status_code != 200:
                self.counters.unexpected[answer.status_code] += 1
        return elapsed


@dataclass
class WorkerRun:
    """The real transition: when each waiter saw ``ready``, and what it saw on the way."""

    sigcont_to_all_ready: float
    notify_to_ready: list[float]
    requests: int
    statuses: list[str]
    api_cpu: float
    client_cpu: float


class Notifications:
    """This process's own LISTEN on ``project_changed``: arrival time of each payload."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}

    def __call__(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.arrivals.setdefault(payload, time.perf_counter())


async def worker_transition(bench: Bench, pools: Pools, notes: Notifications) -> WorkerRun:
    """500 waiters follow the project until ``ready`` while the worker provisions it."""
    worker = bench.stack.children.pid("worker")
    requests = 0
    statuses: set[str] = set()

    async def follow(http: httpx.AsyncClient) -> float:
        nonlocal requests
        tag = bench.etag
        while True:
            requests += 1
            arrived, answer = await bench.long_poll(http, tag)
            if answer.status_code != 200:
                bench.counters.unexpected[answer.status_code] += 1
                continue
            status = answer.json()["status"]
            statuses.add(status)
            tag = answer.headers["etag"]
            if status == "ready":
                bench.etag = tag
                return arrived
            if status == "repo_failed":
                raise RuntimeError("the project failed; see the worker log")

    bench.sampler.phase = "worker: parking and parked"
    tasks = [asyncio.create_task(follow(pools[i % len(pools)])) for i in range(CROWD)]
    try:
        await bench.until_parked(CROWD)
        cpu = CpuWindow(bench.stack.children.pid("api"))
        bench.sampler.phase = "worker: being woken (until all saw ready)"
        sigcont = time.perf_counter()
        os.kill(worker, signal.SIGCONT)
        arrivals = await asyncio.gather(*tasks)
        cpu.stop()
    finally:
        bench.sampler.phase = None
        for task in tasks:
            task.cancel()
    version = bench.etag.rstrip('"').rsplit(".", 1)[1]
    ready_notify = notes.arrivals.get(f"{bench.project_id}:{version}")
    if ready_notify is None:
        raise RuntimeError(f"this process received no NOTIFY for version {version}")
    return WorkerRun(
        sigcont_to_all_ready=max(arrivals) - sigcont,
        notify_to_ready=[a - ready_notify for a in arrivals],
        requests=requests,
        statuses=sorted(statuses),
        api_cpu=cpu.api,
        client_cpu=cpu.client,
    )


async def connect(database_url: str, name: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        plain_dsn(database_url), timeout=5, server_settings={"application_name": name}
    )

"""What every benchmark shares: a throw-away database, Redis db 13, the App key, child
processes (API, worker, sandbox), a token, percentiles, CPU readings and the printed table.

Everything listens on and talks to 127.0.0.1 only, and everything started here is
stopped (and the database dropped, Redis db 13 flushed) when its block ends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import platform
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from redis.asyncio import Redis
from sqlalchemy import make_url

from cli.processes import Children, free_port, wait_until_up
from sandbox import GitHubSandbox
from shared.auth.service import issue_api_token
from shared.crypto import generate_secrets_key
from shared.db.migrate import upgrade_to_head

__all__ = [
    "APP_ID",
    "ORG",
    "PYTHON",
    "REDIS_URL",
    "AppKey",
    "CpuMeter",
    "Stack",
    "app_key",
    "flush_redis",
    "header",
    "new_sandbox",
    "percentile",
    "quiet_logs",
    "service_stack",
    "start_sandbox_process",
    "table",
    "temporary_database",
    "wait_ready_in_db",
]

APP_ID = 4242
ORG = "acme"
PYTHON = sys.executable
REDIS_URL = "redis://127.0.0.1:6379/13"
"""The benchmarks' own Redis database; flushed at the end of every benchmark."""
_SERVER_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- printing -------------------------------------------------------------------------------


def header(title: str, command: str) -> None:
    """The benchmark's title, the command that reproduces it, and the machine."""
    print(f"\n== {title}", flush=True)
    print(f"command: {command}")
    print(
        f"machine: nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} {platform.machine()}",
        flush=True,
    )


def table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None
) -> None:
    """A plain-text table; ``align`` has one ``l`` or ``r`` per column (default: ``lrr…``)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if align[i] == "l" else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "| " + " | ".join(parts) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def quiet_logs() -> None:
    """Drop this process's structlog output below WARNING (the GitHub client logs each call)."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


# --- CPU ------------------------------------------------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (its own threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _machine_busy_idle() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _CLK_TCK, idle / _CLK_TCK


class CpuMeter:
    """CPU used by some processes (and by this one) between :meth:`start` and :meth:`stop`.

    Shares are of one core: 1.0 means one core was busy all the time.
    """

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.shares: dict[str, float] = {}
        self.machine_busy = 0.0
        """Share of the whole machine that was busy (0..1)."""

    def start(self) -> None:
        """Take the first reading."""
        self._wall = time.perf_counter()
        self._self = time.process_time()
        self._procs = {name: _proc_cpu_s(pid) for name, pid in self._pids.items()}
        self._machine = _machine_busy_idle()

    def stop(self) -> None:
        """Take the second reading and compute the shares."""
        wall = time.perf_counter() - self._wall
        self.shares = {"load generator (this process)": (time.process_time() - self._self) / wall}
        for name, pid in self._pids.items():
            self.shares[name] = (_proc_cpu_s(pid) - self._procs[name]) / wall
        busy, idle = _machine_busy_idle()
        d_busy, d_idle = busy - self._machine[0], idle - self._machine[1]
        self.machine_busy = d_busy / (d_busy + d_idle) if d_busy + d_idle > 0 else 0.0

    def summary(self) -> str:
        """One line: each process's share of a core, and the machine's busy share."""
        parts = [f"{name} {share * 100:.0f}%" for name, share in self.shares.items()]
        return (
            "CPU (% of one core): "
            + ", ".join(parts)
            + f"; whole machine {self.machine_busy * 100:.0f}% busy of {os.cpu_count()} cores"
        )


# --- the App key ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppKey:
    """The benchmark GitHub App's key pair and the file the child processes read it from."""

    private: rsa.RSAPrivateKey
    path: Path


@contextmanager
def app_key() -> Iterator[AppKey]:
    """A fresh 2048-bit App key in a temporary file (removed at the end)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    with tempfile.TemporaryDirectory(prefix="provisioner-bench-") as tmp:
        path = Path(tmp) / "app.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        yield AppKey(key, path)


def new_sandbox(key: AppKey, *, latency_s: float = 0.0) -> GitHubSandbox:
    """An in-process sandbox with the App installed on ``ORG`` and no practical rate limit."""
    sandbox = GitHubSandbox(APP_ID, key.private.public_key(), rate_limit=10_000_000)
    sandbox.add_installation(ORG)
    sandbox.faults.latency_s = latency_s
    return sandbox


# --- PostgreSQL and Redis -------------------------------------------------------------------


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(_SERVER_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """A new database migrated to head for the block, dropped after; yields its URL."""
    name = f"provisioner_bench_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(_SERVER_DSN).set(drivername="postgresql+asyncpg", database=name)
        rendered = url.render_as_string(hide_password=False)
        upgrade_to_head(rendered)
        yield rendered
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def flush_redis() -> None:
    """Empty the benchmarks' Redis database (db 13)."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def _make_token(database_url: str) -> str:
    return await issue_api_token(database_url, role="user", subject="bench")


async def wait_ready_in_db(
    connection: asyncpg.Connection,
    project_id: UUID | str,
    *,
    every_s: float = 0.005,
    timeout_s: float = 30.0,
) -> None:
    """Poll the project's status straight from PostgreSQL (cheap) until it is ``ready``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = await connection.fetchval(
            "SELECT status FROM projects WHERE id = $1", UUID(str(project_id))
        )
        if status == "ready":
            return
        if status == "repo_failed":
            raise RuntimeError(f"project {project_id} failed; see the worker log")
        await asyncio.sleep(every_s)
    raise TimeoutError(f"project {project_id} not ready after {timeout_s:g} s")


# --- processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    """A running API (and maybe worker) on a fresh database, with a user token."""

    api_url: str
    database_url: str
    token: str
    env: dict[str, str]
    children: Children
    pids: dict[str, int]
    """Process ids of the children by name (``api``, ``worker``)."""


def _print_log_tails(children: Children, names: Sequence[str], lines: int = 25) -> None:
    for name in names:
        path = children.log_path(name)
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- last {len(tail)} lines of {name}.log ---", file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)


def service_env(
    database_url: str, queue_name: str, github_api_url: str, key: AppKey, **extra: str
) -> dict[str, str]:
    """The environment of API and worker processes (what the e2e test gives them)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAME": queue_name,
        "SECRETS_KEY": generate_secrets_key(),
        "GITHUB_API_URL": github_api_url,
        "GITHUB_APP_ID": str(APP_ID),
        "GITHUB_APP_PRIVATE_KEY_PATH": str(key.path),
        "GITHUB_ORG": ORG,
        **extra,
    }


@asynccontextmanager
async def service_stack(
    name: str, github_api_url: str, key: AppKey, *, worker: bool, **extra_env: str
) -> AsyncIterator[Stack]:
    """API (and worker) child processes on a temporary database, queue ``bench:<name>:<hex>``.

    At the end: the children are stopped, the database dropped and Redis db 13 flushed.
    On failure the tail of each child's log is printed.
    """
    names = ["api", "worker"] if worker else ["api"]
    try:
        async with temporary_database() as database_url:
            queue = f"bench:{name}:{secrets.token_hex(4)}"
            env = service_env(database_url, queue, github_api_url, key, **extra_env)
            with (
                tempfile.TemporaryDirectory(prefix=f"provisioner-bench-{name}-") as logdir,
                Children(Path(logdir), announce=False) as children,
            ):
                try:
                    port = free_port()
                    api_args = [PYTHON, "-m", "cli.main", "api", "--port", str(port)]
                    pids = {"api": children.start("api", api_args, env).pid}
                    if worker:
                        worker_args = [PYTHON, "-m", "cli.main", "worker"]
                        pids["worker"] = children.start("worker", worker_args, env).pid
                    api_url = f"http://127.0.0.1:{port}"
                    await wait_until_up(f"{api_url}/readyz", children)
                    token = await _make_token(database_url)
                    yield Stack(api_url, database_url, token, env, children, pids)
                except BaseException:
                    _print_log_tails(children, names)
                    raise
    finally:
        await flush_redis()


def start_sandbox_process(
    children: Children, key: AppKey, *, latency_ms: float, validate: bool = True
) -> tuple[str, int]:
    """The sandbox CLI (``python -m sandbox``) as a child; returns its URL and pid."""
    port = free_port()
    args = [
        PYTHON, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port),
        "--app-id", str(APP_ID), "--org", ORG, "--private-key", str(key.path),
        "--latency-ms", f"{latency_ms:g}", "--rate-limit", "10000000",
    ]  # fmt: skip
    if not validate:
        args.append("--no-validate")
    proc = children.start("sandbox", args, dict(os.environ))
    return f"http://127.0.0.1:{port}", proc.pid

"""What the benchmarks share beyond :mod:`cli.harness` (which runs their processes):
Redis db 13, the printed header and tables, percentiles, CPU readings, waiting via PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import asyncpg
import structlog

__all__ = [
    "REDIS_URL",
    "CpuMeter",
    "header",
    "percentile",
    "quiet_logs",
    "table",
    "wait_ready_in_db",
]

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
"""The benchmarks' Redis database (``BENCH_REDIS_URL``, so two checkouts can bench at once);
each run has its own queue in it (never flushed)."""
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


# --- PostgreSQL -----------------------------------------------------------------------------


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

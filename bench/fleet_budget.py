"""Three workers against GitHub's real secondary limits: no rejection, minimum writes, full use.

The sandbox enforces 80 content-creating requests per minute and 500 per hour
(sliding windows) and 100 in flight. 40 projects with 2 secrets each are
created at once by 4 owners; the minimum is 4 writes each (create, ``.project.yaml``, two
secrets), 160 in all. Every setting is the default (80/min, 500/h, 10 in
flight, the fleet budget in Redis). Use is measured per 60 s window from the
first write; use of the limit is the shortest time any client could take for
these writes under it (60 s for each full limit's worth after the first burst)
divided by the time the fleet took from the first write to the last.

    python -m bench.fleet_budget
"""

from __future__ import annotations

import asyncio
import math
import secrets

from bench.common import REDIS_URL, header, quiet_logs, table
from bench.fleet import create_projects, enforce_github_limits, wait_all_ready
from cli.harness import Sandbox, running_stack

__all__ = ["main", "run"]

COMMAND = "python -m bench.fleet_budget"
PROJECTS = 40
WORKERS = 3
LATENCY_S = 0.1
LIMIT = 80


def _windows(times: list[float]) -> list[int]:
    """Writes in each 60 s window from the first write on."""
    if not times:
        return []
    count = int((times[-1] - times[0]) // 60) + 1
    return [sum(1 for t in times if times[0] + 60 * k <= t < times[0] + 60 * (k + 1))
            for k in range(count)]  # fmt: skip


async def run() -> None:
    """Run the benchmark and print its table."""
    header(
        f"{WORKERS} workers, {PROJECTS} projects × 2 secrets, sandbox enforcing "
        f"{LIMIT} writes/min and 500/h, {LATENCY_S * 1000:g} ms per call",
        COMMAND,
    )
    quiet_logs()
    run_id = secrets.token_hex(3)
    async with running_stack(
        "fleet-budget", redis_url=REDIS_URL, workers=WORKERS, sandbox=Sandbox(latency_s=LATENCY_S)
    ) as stack:
        sandbox = stack.sandbox
        enforce_github_limits(sandbox)
        names = [f"fleet {run_id} {n}" for n in range(PROJECTS)]
        ids = await create_projects(stack, names, {"A_KEY": "a", "B_KEY": "b"}, owners=4)
        took = await wait_all_ready(stack, ids, timeout_s=600)
        stats = sandbox.stats
    windows = _windows(stats.write_times)
    span = stats.write_times[-1] - stats.write_times[0] if stats.write_times else 0.0
    least = 60.0 * (math.ceil(stats.writes_accepted / LIMIT) - 1)
    use = least / span if span else 1.0
    table(
        ["figure", "value", "target"],
        [
            ("projects ready", f"{len(ids)} of {PROJECTS}", f"{PROJECTS}"),
            ("secondary-limit rejections", str(sum(stats.secondary_rejections.values())), "0"),
            ("writes GitHub accepted", str(stats.writes_accepted), f"{PROJECTS * 4} (minimum)"),
            ("most writes in any 60 s", str(stats.max_writes_in(60)), f"≤ {LIMIT}"),
            ("writes per 60 s window", " + ".join(map(str, windows)), ""),
            ("first to last write", f"{span:.1f} s", f"≥ {least:g} s (the limit's least)"),
            ("use of the limit", f"{use:.0%}", "≥ 90 %"),
            ("all ready after", f"{took:.1f} s", ""),
        ],
    )
    print(f"\n  {COMMAND}", flush=True)


def main() -> None:
    """Console entry point."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

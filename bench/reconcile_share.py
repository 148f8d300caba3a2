"""Drift checks beside provisioning: checks stay within their share, new projects don't wait.

40 ready projects are checked every 20 s (``RECONCILE_INTERVAL_S=20``, far more than
their share can serve, so the share is the only brake) and each has its topics changed
behind the service's back, so a check also writes. Meanwhile 20 new projects are
created. The sandbox enforces GitHub's secondary limits and answers in 100 ms. Every
other setting is the default: ``RECONCILE_BUDGET_SHARE=0.2`` gives drift checks 1000
requests an hour (20 % of GitHub's 5000; up to 4 minutes' worth, 66, in any one minute)
and 16 writes a minute, 100 an hour (20 % of 80 and 500).

    python -m bench.reconcile_share
"""

from __future__ import annotations

import asyncio
import secrets
import time

from bench.common import REDIS_URL, header, quiet_logs, table
from bench.fleet import create_projects, enforce_github_limits, wait_all_ready
from cli.harness import Sandbox, running_stack
from cli.harness.stack import ORG
from provisioner_client import ProjectsClient
from sandbox.stats import max_in_window

__all__ = ["main", "run"]

COMMAND = "python -m bench.reconcile_share"
CHECKED = 40
NEW = 20
WINDOW_S = 180.0
SHARE_REQUESTS_PER_MINUTE = 66
SHARE_REQUESTS_PER_HOUR = 1000
SHARE_WRITES_PER_MINUTE = 16
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


async def run() -> None:
    """Run the benchmark and print its table."""
    header(
        f"{CHECKED} ready projects checked every 20 s (each drifted) while {NEW} new ones are "
        "provisioned; GitHub's secondary limits on, 100 ms per call",
        COMMAND,
    )
    quiet_logs()
    run_id = secrets.token_hex(3)
    env = {"RECONCILE_INTERVAL_S": "20", "WORKER_SWEEP_EVERY_S": "5"}
    async with running_stack(
        "reconcile-share", redis_url=REDIS_URL, sandbox=Sandbox(latency_s=0.1), env=env
    ) as stack:
        sandbox = stack.sandbox
        enforce_github_limits(sandbox)
        owners = [  # each owner may create 30 a minute (API_CREATES_PER_OWNER_PER_MINUTE)
            ProjectsClient(stack.api_url, await stack.token("user", f"checked-{n}"))
            for n in range(2)
        ]
        old = [
            await owners[n % 2].create(f"checked {run_id} {n}", repository={"topics": ["kept"]})
            for n in range(CHECKED)
        ]
        for owner in owners:
            await owner.aclose()
        await wait_all_ready(stack, [p["id"] for p in old], timeout_s=600)
        old_names = {f"checked-{run_id}-{n}" for n in range(CHECKED)}
        for name in old_names:
            sandbox.set_topics(ORG, name, ["drifted"])
        sandbox.reset_requests()
        started = time.monotonic()
        began = sandbox.requests[0].time if sandbox.requests else None
        new_ids = await create_projects(
            stack, [f"new {run_id} {n}" for n in range(NEW)], {}, owners=2
        )
        ready_s = await wait_all_ready(stack, new_ids, timeout_s=600)
        await asyncio.sleep(max(0.0, WINDOW_S - (time.monotonic() - started)))  # the window
        records = list(sandbox.requests)
        stats = sandbox.stats
        restored = sum(
            1 for n in old_names if (r := sandbox.repository(ORG, n)) and r.topics == ["kept"]
        )
    begin = began if began is not None else (records[0].time if records else 0.0)
    checks = [r for r in records if any(f"/{n}" in r.path for n in old_names)]
    provisioning = [r for r in records if r not in checks and r.auth == "installation"]
    check_times = [r.time for r in checks]
    check_writes = [r.time for r in checks if r.method in _WRITES]
    span_min = max(1e-9, (max(r.time for r in records) - begin) / 60) if records else 1.0
    table(
        ["figure", "value", "target"],
        [
            ("drift checks: requests in any 60 s", str(max_in_window(check_times, 60)),
             f"≤ {SHARE_REQUESTS_PER_MINUTE} (the share's burst)"),
            ("drift checks: requests in the window", str(len(checks)),
             f"≤ {SHARE_REQUESTS_PER_HOUR} an hour (the share)"),
            ("drift checks: writes in any 60 s", str(max_in_window(check_writes, 60)),
             f"≤ {SHARE_WRITES_PER_MINUTE} (the share)"),
            ("drift checks: requests per minute (mean)", f"{len(checks) / span_min:.1f}", ""),
            ("provisioning: requests per minute (mean)", f"{len(provisioning) / span_min:.1f}", ""),
            (f"{NEW} new projects ready after", f"{ready_s:.1f} s", ""),
            ("drifted repositories restored", f"{restored} of {CHECKED}", ""),
            ("secondary-limit rejections", str(sum(stats.secondary_rejections.values())), "0"),
            ("window measured", f"{span_min * 60:.0f} s", ""),
        ],
    )  # fmt: skip
    print(f"\n  {COMMAND}", flush=True)


def main() -> None:
    """Console entry point."""
    asyncio.run(run())


if __name__ == "__main__":
    main()

"""``make fuzz``: schemathesis against the API's own OpenAPI, on a real API process.

The API runs as a child process on a temporary database (no GitHub App, no worker:
``cli.harness.running_stack(..., sandbox=None, workers=0)``); schemathesis calls it with an
``ops`` token and checks, at least, that nothing answers 5xx. Long polls (``?wait=``) wait
up to 60 s, so a request may take 70 s before it counts as hung.

    python -m tests.fuzz [--max-time 120] [--workers 4] [schemathesis options...]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
from pathlib import Path

from cli.harness import running_stack

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"


async def fuzz(max_time: int, workers: int, extra: list[str]) -> int:
    """Run schemathesis for ``max_time`` seconds; its exit code."""
    # A webhook secret, so deliveries are checked (401) rather than refused as unconfigured.
    env = {"GITHUB_WEBHOOK_SECRET": secrets.token_urlsafe(32)}
    async with running_stack("fuzz", sandbox=None, workers=0, env=env) as stack:
        token = await stack.token("ops", subject="fuzz")
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{stack.api_url}/openapi.json",
            "--checks",
            CHECKS,
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "70",
            "--max-time",
            str(max_time),
            "--workers",
            str(workers),
            "--generation-deterministic",
            "--no-color",
            # Without a GitHub App (sandbox=None) the budget answers 503 github_not_configured
            # by design: not a crash, so it is left out rather than counted as a server error.
            "--exclude-path",
            "/api/budget",
            *extra,
        ]
        shown = [
            part if not part.startswith("Authorization") else "Authorization: ..."
            for part in command
        ]
        print("$", " ".join(shown), flush=True)
        return await asyncio.to_thread(lambda: subprocess.run(command, check=False).returncode)


def main() -> None:
    """Parse the options, fuzz, exit with schemathesis's code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--max-time", type=int, default=120, help="seconds (default 120)")
    parser.add_argument("--workers", type=int, default=4)
    options, extra = parser.parse_known_args()
    sys.exit(asyncio.run(fuzz(options.max_time, options.workers, extra)))


if __name__ == "__main__":
    main()

"""``python -m bench``: every benchmark, one after another (about 2 minutes on 2 cores)."""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from bench import overhead, post_throughput, requests_per_project, waiters

BENCHMARKS: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
    ("bench.post_throughput", post_throughput.run),
    ("bench.overhead", overhead.run),
    ("bench.requests_per_project", requests_per_project.run),
    ("bench.waiters", waiters.run),
]


def main() -> int:
    """Run them all; a failing one is reported and the others still run. Exit 1 if any failed."""
    started = time.perf_counter()
    failed: list[str] = []
    for name, run in BENCHMARKS:
        try:
            asyncio.run(run())
        except Exception:
            traceback.print_exc()
            print(f"!! {name} failed", flush=True)
            failed.append(name)
    elapsed = time.perf_counter() - started
    print(f"\npython -m bench: {len(BENCHMARKS)} benchmarks in {elapsed:.0f} s", end="")
    print(f"; FAILED: {', '.join(failed)}" if failed else "", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

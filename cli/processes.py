"""Child processes for the demo, the end-to-end tests and the benchmarks.

:mod:`cli.harness` builds a whole running system on these.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from shared.errors import ConfigError

__all__ = ["PYTHON", "Children", "free_port", "wait_until_up"]

PYTHON = sys.executable
"""The interpreter children run (this one: same virtual environment)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Children:
    """Child processes, each in its own process group, all stopped when the block ends.

    Each child's output goes to ``<logdir>/<name>.log``.
    """

    def __init__(self, logdir: Path, *, announce: bool = True) -> None:
        self._logdir = logdir
        self._announce = announce
        self._procs: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = []
        self._started: list[str] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_path(self, name: str) -> Path:
        """Where ``name``'s output goes."""
        return self._logdir / f"{name}.log"

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start ``args`` as ``name``."""
        self._logdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path(name).open("wb")
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._procs.append((name, proc, log))
        if name not in self._started:
            self._started.append(name)
        if self._announce:
            print(f"  started {name:<8} pid {proc.pid:<7} log {self.log_path(name)}", flush=True)
        return proc

    def pid(self, name: str) -> int:
        """The process id of the running child ``name``."""
        return next(proc.pid for child, proc, _ in self._procs if child == name)

    def print_tails(self, lines: int = 25) -> None:
        """Print the last ``lines`` lines of every child's log to stderr (stopped ones too)."""
        for name in self._started:
            path = self.log_path(name)
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                print(f"--- last {len(tail)} lines of {path} ---", file=sys.stderr)
                print("\n".join(tail), file=sys.stderr, flush=True)

    def check_alive(self) -> None:
        """Raise :class:`ConfigError` naming the first child that has exited."""
        for name, proc, _ in self._procs:
            if proc.poll() is not None:
                raise ConfigError(
                    f"{name} exited with {proc.returncode}; see {self.log_path(name)}"
                )

    def stop(self, name: str | None = None, *, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop one child (or all): ``sig`` first, SIGKILL after 15 s."""
        chosen = [p for p in self._procs if name is None or p[0] == name]
        for _, proc, _ in reversed(chosen):
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
        deadline = time.monotonic() + 15
        for entry in reversed(chosen):
            child, proc, log = entry
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
            self._procs.remove(entry)
            if self._announce:
                how = (
                    f"by {signal.Signals(-proc.returncode).name}"
                    if proc.returncode < 0
                    else f"exit {proc.returncode}"
                )
                print(f"  stopped {child:<8} {how}", flush=True)


async def wait_until_up(url: str, children: Children, timeout_s: float = 60) -> None:
    """Poll ``url`` until it answers below 500 (or a child dies, or time runs out)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2, headers={"User-Agent": "provisioner"}) as http:
        while time.monotonic() < deadline:
            children.check_alive()
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise ConfigError(f"{url} did not come up within {timeout_s:g} s")

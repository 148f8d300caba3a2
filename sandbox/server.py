"""Serve a sandbox over real loopback HTTP from a background thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from socket import socket

import uvicorn

from sandbox.core import GitHubSandbox

__all__ = ["serve_in_thread"]

_START_TIMEOUT_S = 10.0


class _Server(uvicorn.Server):
    """A uvicorn server that signals an event once it listens (or gave up)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


@contextlib.contextmanager
def serve_in_thread(
    sandbox: GitHubSandbox, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Run ``sandbox`` with uvicorn in a thread; yields its base URL (``http://host:port``).

    ``port`` 0 picks a free port. Returns only once the server really listens, and
    shuts it down on exit.
    """
    config = uvicorn.Config(
        sandbox.app,
        host=host,
        port=port,
        log_level="critical",
        lifespan="off",
        access_log=False,
        date_header=False,  # the sandbox sends GitHub's Date, from its own clock
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="github-sandbox", daemon=True)
    thread.start()
    if not server.ready.wait(_START_TIMEOUT_S) or not server.started:
        server.should_exit = True
        thread.join(_START_TIMEOUT_S)
        raise RuntimeError(f"the GitHub sandbox did not start on {host}:{port}")
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{host}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(_START_TIMEOUT_S)

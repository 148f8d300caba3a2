"""The running system: child environment, sandbox, :class:`Stack` and :func:`running_stack`."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from redis.exceptions import RedisError

from cli.harness.stores import (
    check_redis,
    default_redis_url,
    forget_queue,
    slug,
    temporary_database,
)
from cli.processes import PYTHON, Children, free_port, wait_until_up
from sandbox import GitHubSandbox
from sandbox.cli import load_or_create_key
from sandbox.server import serve_in_thread
from shared.auth.service import issue_api_token
from shared.crypto import generate_secrets_key
from shared.settings import GitHubSettings

__all__ = [
    "APP_ID",
    "INHERITED",
    "NO_RATE_LIMIT",
    "ORG",
    "Clock",
    "Sandbox",
    "Stack",
    "running_stack",
    "service_environment",
]

APP_ID = 4242
"""The sandbox's GitHub App id."""
ORG = "acme"
"""The organization the App is installed on."""
NO_RATE_LIMIT = 10_000_000
"""Requests per hour the sandbox allows: none a stack could reach."""
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH")
"""The only variables children take from this process: none of the service's settings."""


# --- the environment of child processes -----------------------------------------------------


def service_environment(
    *,
    database_url: str,
    redis_url: str,
    queue_name: str,
    github_api_url: str | None,
    app_key_path: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What API, worker and sandbox processes get: :data:`INHERITED` and the settings below.

    A fresh ``SECRETS_KEY``; the sandbox's App (none when ``github_api_url`` is None);
    ``LOG_LEVEL`` INFO; then ``extra``. Everything else keeps its default.
    """
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env |= {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "QUEUE_NAME": queue_name,
        "SECRETS_KEY": generate_secrets_key(),
        "LOG_LEVEL": "INFO",
    }
    if github_api_url is not None:
        env |= {
            "GITHUB_API_URL": github_api_url,
            "GITHUB_APP_ID": str(APP_ID),
            "GITHUB_APP_PRIVATE_KEY_PATH": str(app_key_path),
            "GITHUB_ORG": ORG,
        }
    return env | dict(extra or {})


# --- the sandbox ----------------------------------------------------------------------------


class Clock:
    """Wall-clock time plus an offset a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move time forward for everyone holding this clock."""
        self.offset += seconds


@dataclass(frozen=True)
class Sandbox:
    """The GitHub sandbox of a stack: the App :data:`APP_ID` installed on :data:`ORG`.

    In a thread of this process by default (:attr:`Stack.sandbox` is then the
    object, to inspect and inject faults); ``process=True`` runs ``python -m sandbox``.
    """

    process: bool = False
    latency_s: float = 0.0
    """Added to every call (``faults.latency_s``; the thread's can change later)."""
    validate: bool = True
    """Check every request against GitHub's OpenAPI description."""
    teams: tuple[str, ...] = ()
    """Team slugs :data:`ORG` has (the process's; the thread's can be added later)."""


def _sandbox_args(spec: Sandbox, port: int, key_path: Path) -> list[str]:
    args = [
        PYTHON, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port),
        "--app-id", str(APP_ID), "--org", ORG, "--private-key", str(key_path),
        "--latency-ms", f"{spec.latency_s * 1000:g}", "--rate-limit", str(NO_RATE_LIMIT),
    ]  # fmt: skip
    for team in spec.teams:
        args += ["--team", f"{ORG}/{team}"]
    return args if spec.validate else [*args, "--no-validate"]


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Stack:
    """A running system; child processes are named ``sandbox``, ``api``, ``worker``,
    ``worker-2``… (logs in ``<workdir>/<name>.log``)."""

    name: str
    workdir: Path
    database_url: str
    redis_url: str
    env: dict[str, str]
    """The children's environment (``QUEUE_NAME``, ``GITHUB_API_URL``… are in it)."""
    children: Children
    api_port: int
    thread_sandbox: GitHubSandbox | None
    """The in-thread sandbox; ``None`` when it is a process or there is none."""
    clock: Clock
    """The in-thread sandbox's clock."""

    @property
    def sandbox(self) -> GitHubSandbox:
        """The in-thread sandbox, to inspect and inject faults into."""
        if self.thread_sandbox is None:
            raise RuntimeError(f"stack {self.name} has no sandbox in this process")
        return self.thread_sandbox

    @property
    def api_url(self) -> str:
        """Where the API listens (once started)."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def queue_name(self) -> str:
        """This stack's arq queue."""
        return self.env["QUEUE_NAME"]

    async def token(self, role: str = "user", subject: str = "harness") -> str:
        """A new API token, stored hashed."""
        return await issue_api_token(self.database_url, role=role, subject=subject)

    def github_settings(self) -> GitHubSettings:
        """The GitHub settings the children have (the sandbox's App), for a client here."""
        return GitHubSettings(
            api_url=self.env["GITHUB_API_URL"],
            app_id=self.env["GITHUB_APP_ID"],
            app_private_key_path=Path(self.env["GITHUB_APP_PRIVATE_KEY_PATH"]),
            org=self.env["GITHUB_ORG"],
        )

    async def start_api(self) -> None:
        """Start the API process (again) on its port and wait until it is ready."""
        self._start_api()
        await self.wait_until_ready()

    def _start_api(self) -> None:
        args = [PYTHON, "-m", "cli.main", "api", "--port", str(self.api_port)]
        self.children.start("api", args, self.env)

    async def wait_until_ready(self) -> None:
        """Until the API's ``/readyz`` answers (raises if a child exits meanwhile)."""
        await wait_until_up(f"{self.api_url}/readyz", self.children)

    async def restart_api(self) -> None:
        """Stop the API process and start a new one on the same port."""
        self.stop("api")
        await self.start_api()

    def start_worker(self, name: str = "worker") -> None:
        """Start a worker process (again) as ``name``."""
        self.children.start(name, [PYTHON, "-m", "cli.main", "worker"], self.env)

    def stop(self, name: str, *, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop child ``name``: ``sig``, then SIGKILL after 15 s."""
        self.children.stop(name, sig=sig)

    def kill(self, name: str) -> None:
        """SIGKILL child ``name`` (no chance to finish anything)."""
        self.children.stop(name, sig=signal.SIGKILL)


@contextlib.contextmanager
def _workdir(name: str, given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix=f"provisioner-{slug(name)}-") as made:
        yield Path(made)


def _thread_sandbox(spec: Sandbox, key: RSAPrivateKey, clock: Clock) -> GitHubSandbox:
    sandbox = GitHubSandbox(
        APP_ID, key.public_key(), clock=clock, validate_requests=spec.validate,
        rate_limit=NO_RATE_LIMIT,
    )  # fmt: skip
    sandbox.add_installation(ORG)
    sandbox.faults.latency_s = spec.latency_s
    return sandbox


async def _forget_queue_quietly(url: str, queue_name: str) -> None:
    with contextlib.suppress(OSError, RedisError):  # cleanup only: never hide the real error
        await forget_queue(url, queue_name)


@contextlib.asynccontextmanager
async def running_stack(
    name: str,
    *,
    workdir: Path | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    sandbox: Sandbox | None = Sandbox(),  # frozen: never changed
    api: bool = True,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    announce: bool = False,
) -> AsyncIterator[Stack]:
    """The sandbox, the API and ``workers`` workers, each up; all stopped after the block.

    ``name`` goes into the queue name (and the temporary database's and directory's).
    ``workdir`` holds the App key (``app.pem``, made if missing) and the logs; a
    temporary directory by default. ``database_url`` None: a temporary database,
    dropped after. ``redis_url`` default: :func:`default_redis_url`.
    ``sandbox`` None: no GitHub App at all. ``env`` is added to the children's
    environment (:func:`service_environment`). ``announce`` prints a line per
    process started and stopped. If anything fails, in the block or while
    starting, the tail of every child's log goes to stderr.
    """
    redis_url = redis_url or default_redis_url()
    await check_redis(redis_url)
    queue_name = f"provisioner:{slug(name)}:{secrets.token_hex(4)}"
    async with contextlib.AsyncExitStack() as exits:  # left in reverse order
        directory = exits.enter_context(_workdir(name, workdir))
        key_path = directory / "app.pem"
        key = load_or_create_key(key_path)
        exits.push_async_callback(_forget_queue_quietly, redis_url, queue_name)
        if database_url is None:
            database_url = (await exits.enter_async_context(temporary_database(name))).url
        clock = Clock()
        in_thread, github_url, sandbox_port = None, None, free_port()
        if sandbox is not None and not sandbox.process:
            in_thread = _thread_sandbox(sandbox, key, clock)
            github_url = exits.enter_context(serve_in_thread(in_thread))
        elif sandbox is not None:
            github_url = f"http://127.0.0.1:{sandbox_port}"
        children = exits.enter_context(Children(directory, announce=announce))
        environment = service_environment(
            database_url=database_url, redis_url=redis_url, queue_name=queue_name,
            github_api_url=github_url, app_key_path=key_path, extra=env,
        )  # fmt: skip
        stack = Stack(
            name=name,
            workdir=directory,
            database_url=database_url,
            redis_url=redis_url,
            env=environment,
            children=children,
            api_port=free_port(),
            thread_sandbox=in_thread,
            clock=clock,
        )
        try:
            if sandbox is not None and sandbox.process:
                args = _sandbox_args(sandbox, sandbox_port, key_path)
                children.start("sandbox", args, environment)
                await wait_until_up(f"{github_url}/app", children)
            if api:
                stack._start_api()
            for i in range(workers):
                stack.start_worker("worker" if i == 0 else f"worker-{i + 1}")
            if api:
                await stack.wait_until_ready()
            yield stack
        except GeneratorExit:  # closed unfinished: nothing failed
            raise
        except BaseException:
            children.print_tails()
            raise

"""One process harness for the end-to-end tests, the benchmarks and ``provisioner demo``.

:func:`running_stack` brings up a whole system on 127.0.0.1 and stops it again:
a PostgreSQL database migrated to head (temporary unless given), the GitHub
sandbox (in a thread of this process, or as a child process), the API and N
workers as real child processes with their environment, and a :class:`Stack`
to issue tokens, stop, kill and restart them. The pieces are usable alone:
:func:`create_database` / :func:`drop_database` / :func:`temporary_database`,
:func:`service_environment`, :func:`check_redis`, :func:`forget_queue`.

Redis isolation is by queue name, never by flushing: each stack gets its own
``QUEUE_NAME`` (``provisioner:<name>:<hex>``), and arq's job ids embed project
ids, which are UUIDs, so several runs can share one Redis database (other
engineers' test runs included). At the end the stack deletes what its queue left
that would not expire (:func:`forget_queue`); kept results expire by themselves.
One thing is shared: arq names a cron job by its time (``sweep_unfinished:<ms>``), so
the workers of stacks on one Redis database take turns running the sweeper; tests
that need it on every tick use a database number of their own.
"""

from cli.harness.stack import (
    APP_ID,
    ORG,
    Clock,
    Sandbox,
    Stack,
    running_stack,
    service_environment,
)
from cli.harness.stores import (
    Database,
    check_redis,
    create_database,
    default_redis_url,
    drop_database,
    forget_queue,
    plain_dsn,
    server_dsn,
    temporary_database,
)

__all__ = [
    "APP_ID",
    "ORG",
    "Clock",
    "Database",
    "Sandbox",
    "Stack",
    "check_redis",
    "create_database",
    "default_redis_url",
    "drop_database",
    "forget_queue",
    "plain_dsn",
    "running_stack",
    "server_dsn",
    "service_environment",
    "temporary_database",
]

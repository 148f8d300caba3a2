"""Benchmarks of provisioner against the GitHub sandbox (``python -m bench`` runs them all).

* :mod:`bench.post_throughput`: ``POST /api/projects/`` at concurrency 32, next to the
  original design (provisioning inside the request, :mod:`bench.baseline_app`);
* :mod:`bench.overhead`: POST → ``ready`` minus the time spent in GitHub calls;
* :mod:`bench.requests_per_project`: GitHub requests per project against the minimum;
* :mod:`bench.waiters`: long-poll wake-up latency (commit → answer) for 1/100/500 waiters,
  one real worker transition, and the database connections they hold.

Each one runs its processes with :func:`cli.harness.running_stack`: its own temporary
database and queue name (in Redis db 13, never flushed), only 127.0.0.1, every process it
started stopped; it prints its figures with the command that produced them. None of them
asserts on timings.
"""

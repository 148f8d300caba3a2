"""The fleet-wide GitHub budget, kept in Redis and shared by every worker and API process.

GitHub's secondary limits apply to the App as a whole, not to a process: at most 100
concurrent requests, at most 80 content-creating requests (POST, PUT, PATCH, DELETE) a
minute and 500 an hour; requests made while limited "may result in the banning of your
integration". This package keeps one budget for the whole fleet. It imports nothing from
the rest of the project (stdlib, ``redis``, ``structlog`` only) and never reads the
environment: everything comes in a :class:`BudgetConfig`.

The GitHub client calls one object around each request, :class:`GitHubBudget` (or
depends on the :class:`BudgetHook` protocol, which :class:`NullBudget` satisfies without
Redis)::

    permit = await budget.acquire("POST", max_wait_s=5)     # or raises BudgetWait
    ...send...
    await budget.release(permit, response.headers, response.status_code)

Write limits: a sliding log, not GCRA
-------------------------------------
Every write has an entry in one Redis sorted set (member: permit id, score: its slot, a
Redis time). A write may take slot ``s`` when, for each limit ``L`` per window ``W``,
fewer than ``L`` entries lie in ``(s - W - margin, s]``; with the entries newest first
(``e1 ≥ e2 ≥ …``) that is ``s ≥ e_L + W + margin``, two ``ZREVRANGE`` lookups. New slots
are appended after the newest entry (``s ≥ e1``), so slots are granted first come, first
served, and the check at the end of the log is all that is needed: by induction every
``L + 1`` consecutive entries span more than ``W + margin``, so **no window of length
``W`` anywhere in the log, past or future, holds more than ``L`` writes**, for both
limits at once. An idle fleet gets up to ``L`` writes at once (burst); a busy one gets
exactly ``L`` per ``W + margin``, which is ≥ 96 % of GitHub's limit with the defaults.

GCRA (one "theoretical arrival time" per limit) is cheaper but cannot give both: with a
burst of ``B`` and a rate of ``L/W`` it admits ``B - 1 + L`` writes in some window of
length ``W``: a burst of 80 followed by 80 more paced over the next minute is 159 in 60 s.
Keeping within ``L`` per window with GCRA means choosing ``B + rate·W ≤ L``, i.e.
giving up either the burst or a large part of the sustained rate. The sliding log costs
at most ``writes_per_hour`` small entries (older ones are trimmed), which is nothing.

Future slots. ``max_wait_s`` lets a caller take a slot up to that far ahead: the entry
is written with the future score, so the next caller is queued behind it instead of
every waiter retrying at the same instant; when the first free slot is further away,
nothing is reserved and the caller gets :class:`WaitUntil` / :class:`BudgetWait` with
the time to wait (a job defers itself by that much). A reservation that is not used
(``BudgetWait``, cancellation, ``release(..., sent=False)``) is removed: an entry fewer
can only make every window emptier, so giving slots back is always safe. A process that
dies holding a reservation leaves it counted until it ages out: the safe side, since the
budget cannot know whether the request left.

Clocks and margins. Every time is Redis's (``redis.call('TIME')`` inside the scripts);
processes only ever sleep for durations Redis computed, so their clocks do not matter.
``safety_margin_s`` (2 s) widens both windows. A write must start within
``start_tolerance_s`` (0.25 s) of its slot (later, e.g. after waiting for an in-flight
slot, it is re-stamped at the current time when the limits allow, or queued again), so
two writes a full limit apart are granted at least ``W + 1.75 s`` apart: the request may
take up to 1.75 s from its grant to GitHub counting it. A wall clock stepped forward on
the Redis host by ``X`` can let writes through ``X`` early; stepping back only delays.

Concurrency. ``max_in_flight`` leases in a sorted set scored by expiry; a lease lapses
``lease_s`` after its grant, so a SIGKILLed holder blocks its slot for at most that long.
Acquiring polls with jittered, doubling sleeps, bounded by ``max_wait_s``.

Pauses. A rate-limit answer pauses the fleet (every write after a write's rejection,
everything after a read's or when the primary limit is spent) for ``retry-after``, else
until ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0, else 60 s. A pause only
ever extends. Rejections of requests that were already in flight when the pause was set
are echoes and count from the pause's start, so a volley of identical rejections pauses
once. Every answer's primary limit is recorded; below ``primary_floor`` the fleet pauses
until the reset. The same script that grants checks the pause, so nothing starts inside
one.

Losing Redis's state (``FLUSHDB``, a failover to a replica that lacks it, a restart
without persistence) loses the write log, and with it the guarantee. The budget notices:
it keeps an identity key that never expires, and the first process that had seen the old
identity and finds another one pauses every write for one short window (``minute_window_s
+ safety_margin_s``), which restores the per-minute guarantee; the hour's cannot be
rebuilt. Keep the budget in a Redis (and db) that nothing flushes.

All of it is a handful of Lua scripts (``register_script``/``EVALSHA``); acquiring an
idle budget and releasing are one round trip each, and so is :meth:`GitHubBudget.snapshot`.
"""

from shared.budget.budget import BudgetHook, GitHubBudget, NullBudget
from shared.budget.config import BudgetConfig, BudgetKeys
from shared.budget.headers import (
    PauseOrder,
    RateLimitHeaders,
    is_rate_limited,
    parse_rate_limit,
    pauses_for_answer,
    retry_after_s,
)
from shared.budget.limiter import WriteLimiter
from shared.budget.metrics import METRICS, feed_gauges, metric_values
from shared.budget.models import (
    WRITE_METHODS,
    BudgetSnapshot,
    BudgetWait,
    Granted,
    Lease,
    Pause,
    PauseResult,
    PauseScope,
    Permit,
    PrimaryObservation,
    WaitReason,
    WaitUntil,
    is_write_method,
)
from shared.budget.pause import FleetPause
from shared.budget.semaphore import FleetSemaphore

__all__ = [
    "METRICS",
    "WRITE_METHODS",
    "BudgetConfig",
    "BudgetHook",
    "BudgetKeys",
    "BudgetSnapshot",
    "BudgetWait",
    "FleetPause",
    "FleetSemaphore",
    "GitHubBudget",
    "Granted",
    "Lease",
    "NullBudget",
    "Pause",
    "PauseOrder",
    "PauseResult",
    "PauseScope",
    "Permit",
    "PrimaryObservation",
    "RateLimitHeaders",
    "WaitReason",
    "WaitUntil",
    "WriteLimiter",
    "feed_gauges",
    "is_rate_limited",
    "is_write_method",
    "metric_values",
    "parse_rate_limit",
    "pauses_for_answer",
    "retry_after_s",
]

"""The budget's configuration: a plain frozen dataclass; the package never reads the environment."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

__all__ = ["BudgetConfig", "BudgetKeys"]


@dataclass(frozen=True, slots=True)
class BudgetKeys:
    """The Redis keys of one budget, all under :attr:`BudgetConfig.key_prefix`.

    ``writes``: sorted set, the write log (member: permit id, score: slot, Redis epoch s);
    ``leases``: sorted set, in-flight requests (member: permit id, score: lease expiry);
    ``pause_all`` / ``pause_writes``: hashes ``until``/``reason``/``set_at``;
    ``primary``: hash of the last primary rate-limit observation per resource;
    ``epoch``: hash naming this budget's state (no expiry), to notice when it was lost.
    """

    writes: str
    leases: str
    pause_all: str
    pause_writes: str
    primary: str
    epoch: str

    @classmethod
    def under(cls, prefix: str) -> BudgetKeys:
        """The keys of a budget whose keys all start with ``prefix``."""
        return cls(
            writes=f"{prefix}writes",
            leases=f"{prefix}leases",
            pause_all=f"{prefix}pause:all",
            pause_writes=f"{prefix}pause:writes",
            primary=f"{prefix}primary",
            epoch=f"{prefix}epoch",
        )


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """How much of GitHub the whole fleet may use. Every process must use the same values.

    Limits (GitHub's secondary limits for content-creating requests, per App):

    * ``writes_per_minute``: at most this many POST/PUT/PATCH/DELETE in any
      ``minute_window_s`` seconds (sliding), fleet-wide. Default 80.
    * ``writes_per_hour``: at most this many in any ``hour_window_s`` seconds. Default 500.
    * ``minute_window_s`` / ``hour_window_s``: the window lengths, 60 s and 3600 s; tests
      and benchmarks shrink them, production never should.
    * ``safety_margin_s``: added to both windows. Two writes that are a full limit apart get
      Redis-clock grant times at least ``window + safety_margin_s - start_tolerance_s``
      apart, so a request may take up to that difference (1.75 s by default) from its grant
      to GitHub counting it without any GitHub-side window seeing one write too many.
    * ``start_tolerance_s``: how late (after its reserved slot) a write may still start on
      that slot; later than this, it is re-queued (or re-stamped at the current time when
      that is within the limits). Must be smaller than ``safety_margin_s``.

    Concurrency:

    * ``max_in_flight``: requests (reads and writes) in flight at once, fleet-wide. GitHub
      allows 100; default 10.
    * ``lease_s``: a holder's in-flight slot expires this long after its grant even if it
      is never released (a SIGKILLed process). Make it longer than the HTTP client's
      timeout: a request that outlives its lease is no longer counted.
    * ``poll_min_s`` / ``poll_max_s``: jittered, doubling sleep between tries while every
      in-flight slot is taken.

    Pauses and the primary limit:

    * ``primary_floor``: when a response says fewer than this many primary requests remain
      (``x-ratelimit-remaining``) for a tracked resource, the whole fleet (reads and writes)
      pauses until ``x-ratelimit-reset``. Default 100.
    * ``tracked_resources``: the ``x-ratelimit-resource`` values whose primary limit pauses
      the fleet (``core`` by default; ``search`` has 30 a minute and must not stall REST
      calls). Answers without the header count as ``core``.
    * ``secondary_pause_s``: the pause after a secondary-limit answer without
      ``retry-after`` (GitHub: "wait at least one minute"). Default 60.
    * ``reset_cushion_s``: added to pauses until ``x-ratelimit-reset`` (whole seconds,
      another clock). Default 1.
    * ``max_pause_s``: no pause is longer than this, whatever a header says. Default 3660.

    Keys:

    * ``key_prefix``: every key starts with it. The default carries a Redis Cluster hash
      tag so all keys of one budget live in one slot (the Lua scripts touch several).
      Use one prefix per GitHub App.
    """

    writes_per_minute: int = 80
    writes_per_hour: int = 500
    max_in_flight: int = 10
    lease_s: float = 30.0
    primary_floor: int = 100
    key_prefix: str = "{github-budget}:"
    minute_window_s: float = 60.0
    hour_window_s: float = 3600.0
    safety_margin_s: float = 2.0
    start_tolerance_s: float = 0.25
    secondary_pause_s: float = 60.0
    reset_cushion_s: float = 1.0
    max_pause_s: float = 3660.0
    poll_min_s: float = 0.01
    poll_max_s: float = 0.2
    tracked_resources: frozenset[str] = field(default_factory=lambda: frozenset({"core"}))

    def __post_init__(self) -> None:
        for name in ("writes_per_minute", "writes_per_hour", "max_in_flight"):
            if getattr(self, name) < 1:
                raise ValueError(f"BudgetConfig.{name} must be at least 1")
        if self.primary_floor < 0:
            raise ValueError("BudgetConfig.primary_floor must not be negative")
        positive = ("lease_s", "minute_window_s", "hour_window_s", "poll_min_s", "poll_max_s")
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"BudgetConfig.{name} must be a positive number")
        non_negative = (
            "safety_margin_s",
            "start_tolerance_s",
            "secondary_pause_s",
            "reset_cushion_s",
            "max_pause_s",
        )
        for name in non_negative:
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"BudgetConfig.{name} must be a number >= 0")
        if self.start_tolerance_s > 0 and self.start_tolerance_s >= self.safety_margin_s:
            raise ValueError("BudgetConfig.start_tolerance_s must be below safety_margin_s")
        if self.poll_min_s > self.poll_max_s:
            raise ValueError("BudgetConfig.poll_min_s must not exceed poll_max_s")
        if not self.key_prefix:
            raise ValueError("BudgetConfig.key_prefix must not be empty")

    @property
    def keys(self) -> BudgetKeys:
        """The Redis keys this configuration uses."""
        return BudgetKeys.under(self.key_prefix)

    def scaled(self, factor: float) -> BudgetConfig:
        """The same limits with every duration multiplied by ``factor`` (tests, benchmarks).

        Window lengths, the safety margin, the start tolerance, the lease and the pauses
        shrink together, so the limiter behaves the same, only faster.
        """
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError("factor must be a positive number")
        return replace(
            self,
            minute_window_s=self.minute_window_s * factor,
            hour_window_s=self.hour_window_s * factor,
            safety_margin_s=self.safety_margin_s * factor,
            start_tolerance_s=self.start_tolerance_s * factor,
            lease_s=self.lease_s * factor,
            secondary_pause_s=self.secondary_pause_s * factor,
            max_pause_s=self.max_pause_s * factor,
        )

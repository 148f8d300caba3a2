"""Exponential backoff with full jitter, never shorter than what GitHub asked for."""

from __future__ import annotations

import random

__all__ = ["retry_delay"]


def retry_delay(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    at_least_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``.

    Full jitter (AWS Architecture Blog): uniform in ``[0, min(cap, base·2^(attempt-1))]``,
    then raised to ``at_least_s`` (a ``retry-after`` or rate-limit reset).
    """
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    delay = (rng or random).uniform(0, ceiling)
    return max(delay, at_least_s or 0.0)

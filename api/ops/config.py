"""The console's configuration, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OpsConfig"]


@dataclass(frozen=True)
class OpsConfig:
    """What the ops console needs beyond the API's resources."""

    queue_name: str
    """The arq queue: its workers' heartbeats and the sessions' keys live under it."""
    session_ttl_s: int = 8 * 3600
    """How long a sign-in lasts (``OPS_SESSION_TTL_S``)."""
    live_stream_s: float = 15.0
    """How long one change stream lasts before the browser reconnects (so a stopping
    API process is never held up for longer)."""

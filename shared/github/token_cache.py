"""Installation tokens: cached until shortly before they expire, minted once under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["REFRESH_MARGIN_S", "InstallationToken", "TokenCache"]

REFRESH_MARGIN_S = 5 * 60
"""A cached token is replaced this long before its ``expires_at``."""


@dataclass(frozen=True)
class InstallationToken:
    """An installation access token and what it may do. ``repr`` never shows the token."""

    token: str = field(repr=False)
    expires_at: datetime
    permissions: Mapping[str, str] = field(default_factory=dict)
    repositories: tuple[str, ...] | None = None
    """Names the token is narrowed to; ``None`` for every repository of the installation."""

    def seconds_left(self, now: float) -> float:
        """Seconds until GitHub stops accepting the token."""
        return self.expires_at.timestamp() - now


class TokenCache:
    """One installation token shared by every caller of this process.

    ``mint`` asks GitHub for a new token. Concurrent callers that find the cache
    empty or stale wait for the same mint instead of each starting one.
    """

    def __init__(
        self,
        mint: Callable[[], Awaitable[InstallationToken]],
        *,
        clock: Callable[[], float],
        refresh_margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self._mint = mint
        self._clock = clock
        self._margin = refresh_margin_s
        self._token: InstallationToken | None = None
        self._minting: asyncio.Future[InstallationToken] | None = None

    async def get(self) -> InstallationToken:
        """A token with more than the refresh margin of life left."""
        token = self._token
        if token is not None and token.seconds_left(self._clock()) > self._margin:
            return token
        if self._minting is None:
            self._minting = asyncio.ensure_future(self._mint_and_store())
        return await asyncio.shield(self._minting)

    async def _mint_and_store(self) -> InstallationToken:
        try:
            self._token = await self._mint()
            return self._token
        finally:
            self._minting = None

    def invalidate(self, token: InstallationToken | None = None) -> None:
        """Forget the cached token (only if it is still ``token``, when given)."""
        if token is None or self._token is token:
            self._token = None

"""The worker's one boundary: :func:`classify` turns any exception into a :class:`Failure`.

Whatever a job can meet (a GitHub answer, a provisioning or cipher failure, a
configuration error, PostgreSQL going away, a bug) ends here, so the job
needs to know nothing but ``code``, ``transient``, ``retry_after`` and ``message``.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared.errors import DatabaseUnavailable, Failure, InternalError, ProvisionerError
from shared.github.errors import GitHubError

__all__ = ["Failure", "classify"]

_DATABASE_DOWN = (OperationalError, InterfaceError, ConnectionError, asyncio.TimeoutError)


def classify(exc: BaseException) -> Failure:
    """The :class:`Failure` that ``exc`` means for a job."""
    if isinstance(exc, ProvisionerError):
        return exc.failure()
    if isinstance(exc, GitHubError):
        return Failure(
            exc.code, exc.message, exc.transient, exc.retry_after, spends_attempt=exc.spends_attempt
        )
    if isinstance(exc, _DATABASE_DOWN) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return DatabaseUnavailable(f"PostgreSQL did not answer: {type(exc).__name__}").failure()
    return InternalError(f"unexpected {type(exc).__name__} in the worker").failure()

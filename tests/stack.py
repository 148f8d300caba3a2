"""The ``stack`` fixture of end-to-end tests: :func:`cli.harness.running_stack` per module.

API and worker are real child processes on a database of the module's own; the
sandbox runs in this process (over loopback HTTP) so tests can inspect its
state, inject faults and move its clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from cli.harness import Stack, running_stack
from tests.redis_urls import redis_url

__all__ = ["Stack", "module_stack"]


def module_stack(name: str, *, redis_db: int, **env: str) -> Any:
    """A module-scoped ``stack`` fixture: Redis db ``redis_db``, logs at DEBUG, then ``env``."""

    @pytest_asyncio.fixture(scope="module", loop_scope="module", name="stack")
    async def stack_fixture(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
        async with running_stack(
            f"test_{name}",
            workdir=tmp_path_factory.mktemp(name),
            redis_url=redis_url(redis_db),
            env={"LOG_LEVEL": "DEBUG", **env},
        ) as running:
            yield running
        assert running.sandbox.spec_violations == []

    return stack_fixture

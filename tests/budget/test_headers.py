"""Reading GitHub's rate-limit headers and deciding on pauses (pure, no Redis)."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from shared.budget import (
    BudgetConfig,
    PauseScope,
    is_rate_limited,
    parse_rate_limit,
    pauses_for_answer,
    retry_after_s,
)
from shared.budget.headers import lower_headers

CONFIG = BudgetConfig()
HEADERS = {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4990",
    "x-ratelimit-used": "10",
    "x-ratelimit-reset": "1700003600",
    "x-ratelimit-resource": "core",
}


def test_parse_rate_limit() -> None:
    rl = parse_rate_limit(lower_headers({k.upper(): v for k, v in HEADERS.items()}))
    assert rl is not None
    assert (rl.resource, rl.limit, rl.remaining, rl.used, rl.reset) == (
        "core",
        5000,
        4990,
        10,
        1700003600,
    )
    assert rl.seconds_to_reset() is None
    dated = parse_rate_limit({**HEADERS, "date": formatdate(1700003000, usegmt=True)})
    assert dated is not None and dated.seconds_to_reset() == 600
    assert parse_rate_limit({"x-ratelimit-remaining": "5"}) is None
    assert parse_rate_limit({"x-ratelimit-remaining": "x", "x-ratelimit-reset": "1"}) is None
    bare = parse_rate_limit({"x-ratelimit-remaining": "5", "x-ratelimit-reset": "1"})
    assert bare is not None and bare.resource == "core" and bare.limit is None


def test_retry_after() -> None:
    assert retry_after_s({}) is None
    assert retry_after_s({"retry-after": "30"}) == 30
    assert retry_after_s({"retry-after": "-3"}) == 0
    assert retry_after_s({"retry-after": "soon"}) is None
    date = formatdate(1700000000, usegmt=True)
    later = formatdate(1700000045, usegmt=True)
    assert retry_after_s({"retry-after": later, "date": date}) == 45
    assert retry_after_s({"retry-after": later}, now=1700000040) == 5


@pytest.mark.parametrize(
    ("status", "headers", "limited"),
    [
        (429, {}, True),
        (403, {"retry-after": "5"}, True),
        (403, {"x-ratelimit-remaining": "0"}, True),
        (403, {"x-ratelimit-remaining": "12"}, False),
        (404, {"retry-after": "5"}, False),
        (None, {}, False),
    ],
)
def test_is_rate_limited(status: int | None, headers: dict[str, str], limited: bool) -> None:
    assert is_rate_limited(status, headers) is limited


def test_pauses_for_answers() -> None:
    def decide(status: int | None, headers: dict[str, str], *, write: bool = True) -> list[str]:
        orders = pauses_for_answer(
            method="POST" if write else "GET",
            is_write=write,
            status=status,
            headers=headers,
            config=CONFIG,
            started_at=5.0,
        )
        return [
            f"{o.scope.value}:{o.seconds if o.until is None else 'at ' + str(o.until)}"
            for o in orders
        ]

    assert decide(201, HEADERS) == []
    assert decide(403, {**HEADERS, "retry-after": "30"}) == ["writes:30.0"]
    assert decide(403, {**HEADERS, "retry-after": "30"}, write=False) == ["all:30.0"]
    assert decide(429, HEADERS) == ["writes:60.0"]
    spent = {**HEADERS, "x-ratelimit-remaining": "0"}
    assert decide(403, spent) == ["all:at 1700003601.0"]  # floor's pause, until reset + 1
    assert decide(403, {**spent, "retry-after": "7"}) == ["all:7.0", "all:at 1700003601.0"]
    assert decide(200, {**HEADERS, "x-ratelimit-remaining": "99"}) == ["all:at 1700003601.0"]
    search = {**HEADERS, "x-ratelimit-resource": "search", "x-ratelimit-remaining": "0"}
    assert decide(403, search) == []  # search's limit does not stop the fleet
    order = pauses_for_answer(
        method="PUT", is_write=True, status=429, headers={}, config=CONFIG, started_at=5.0
    )[0]
    assert (order.scope, order.started_at) == (PauseScope.WRITES, 5.0)
    no_floor = pauses_for_answer(
        method="GET",
        is_write=False,
        status=403,
        headers=spent,
        config=BudgetConfig(primary_floor=0),
    )
    assert [(o.scope, o.until) for o in no_floor] == [(PauseScope.ALL, 1700003601.0)]

"""Pure rules of changes after ready: merge-patch, webhook signatures, reconcile pacing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.projects.changes import merge_patch
from shared.projects.reconcile_schedule import next_reconcile_at
from shared.webhooks import WATCHED_EVENTS, repository_id_of, sign, signature_valid
from worker.reconcile import checks_per_scan


@pytest.mark.parametrize(
    ("target", "patch", "merged"),
    [  # RFC 7396, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: object, patch: object, merged: object) -> None:
    assert merge_patch(target, patch) == merged


def test_merge_patch_leaves_its_inputs_alone() -> None:
    target = {"repository": {"topics": ["a"], "variables": {"X": "1"}}}
    merge_patch(target, {"repository": {"variables": {"X": None}}})
    assert target == {"repository": {"topics": ["a"], "variables": {"X": "1"}}}


def test_a_signature_is_checked_against_the_body_and_the_secret() -> None:
    body = b'{"action":"edited"}'
    good = sign(b"s3cret", body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert signature_valid(b"s3cret", body, good)
    assert not signature_valid(b"other", body, good)
    assert not signature_valid(b"s3cret", body + b" ", good)
    assert not signature_valid(b"s3cret", body, good.replace("sha256=", "sha1="))
    assert not signature_valid(b"s3cret", body, None)
    assert not signature_valid(b"s3cret", body, "")


def test_the_repository_of_a_delivery() -> None:
    assert repository_id_of({"repository": {"id": 42}}) == 42
    assert repository_id_of({"repository": {"id": "42"}}) is None
    assert repository_id_of({"repository": {"id": True}}) is None
    assert repository_id_of({"organization": {"id": 1}}) is None
    assert {"repository", "member", "team", "repository_ruleset"} <= WATCHED_EVENTS


def test_checks_are_spread_over_the_interval() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    dues = [next_reconcile_at(now, 3600) for _ in range(200)]
    offsets = sorted((d - now).total_seconds() for d in dues if d is not None)
    assert offsets[0] >= 3240 and offsets[-1] <= 3960
    assert offsets[-1] - offsets[0] > 300  # jittered, not in lockstep
    assert next_reconcile_at(now, 0) is None
    assert next_reconcile_at(now, 60) - now <= timedelta(seconds=66)  # type: ignore[operator]


def test_a_scan_enqueues_what_the_share_serves_until_the_next_scan() -> None:
    # 20 % of 5000 requests an hour at about 8 a check: 125 checks an hour, 1.04 per 30 s.
    assert checks_per_scan(0.2, 30) == 2
    assert checks_per_scan(1.0, 3600) == 625
    assert checks_per_scan(0.01, 5) == 1

"""``serve_in_thread`` over loopback, and the command line's key handling."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from sandbox import GitHubSandbox, Installation
from sandbox.cli import build_sandbox, load_or_create_key, parser
from sandbox.server import serve_in_thread
from tests.sandbox.conftest import UA


def test_serves_on_a_free_loopback_port(sandbox: GitHubSandbox) -> None:
    with serve_in_thread(sandbox) as base:
        assert base.startswith("http://127.0.0.1:")
        r = httpx.get(f"{base}/rate_limit", headers=UA)
        assert r.status_code == 401
    assert sandbox.count("GET", "/rate_limit") == 1


def test_control_routes_over_loopback(sandbox: GitHubSandbox) -> None:
    sandbox.add_repository("acme", "r")
    with serve_in_thread(sandbox) as base:
        assert httpx.get(f"{base}/_sandbox/stats").json()["writes_accepted"] == 0
        r = httpx.patch(f"{base}/_sandbox/repos/acme/r", json={"archived": True})
        assert r.status_code == 204
    repo = sandbox.repository("acme", "r")
    assert repo is not None
    assert repo.archived


def test_cli_generates_the_key_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "app.pem"
    args = parser().parse_args(
        [
            "--app-id",
            "9",
            "--org",
            "acme",
            "--org",
            "beta",
            "--private-key",
            str(path),
            "--latency-ms",
            "100",
            "--secondary-limit-per-minute",
            "80",
        ]
    )
    sb, installs = build_sandbox(args)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(installs) == {"acme", "beta"}
    assert sb.faults.latency_s == 0.1
    assert sb.faults.secondary_limit_per_minute == 80
    before = path.read_bytes()
    load_or_create_key(path)
    assert path.read_bytes() == before


def _build(tmp_path: Path, *flags: str) -> GitHubSandbox:
    return _built(tmp_path, *flags)[0]


def _built(tmp_path: Path, *flags: str) -> tuple[GitHubSandbox, Installation]:
    base = ["--app-id", "9", "--org", "acme", "--private-key", str(tmp_path / "app.pem")]
    sb, installs = build_sandbox(parser().parse_args([*base, *flags]))
    installation = sb.installation(installs["acme"])
    assert installation is not None
    return sb, installation


def test_cli_limits_are_off_unless_asked(tmp_path: Path) -> None:
    f = _build(tmp_path).faults
    assert (f.secondary_limit_per_minute, f.secondary_limit_per_hour) == (None, None)
    assert f.max_concurrent_requests is None
    f = _build(tmp_path, "--github-limits", "--secondary-limit-per-hour", "100").faults
    assert (f.secondary_limit_per_minute, f.secondary_limit_per_hour) == (80, 100)
    assert f.max_concurrent_requests == 100
    sb = _build(tmp_path, "--max-concurrent-requests", "3", "--primary-limit-per-hour", "7")
    assert (sb.faults.max_concurrent_requests, sb.rate_limit) == (3, 7)
    assert _build(tmp_path, "--rate-limit", "8").rate_limit == 8


def test_cli_seeds_the_world(tmp_path: Path) -> None:
    sb, installation = _built(
        tmp_path,
        "--enterprise-org", "acme",
        "--user", "alice",
        "--member", "acme/bob",
        "--team", "acme/platform",
        "--property", "acme/tier=single_select:gold,silver",
        "--property", "acme/owner=string",
        "--template", "acme/tpl",
        "--without-permission", "members",
        "--template-content-delay-s", "2.5",
    )  # fmt: skip
    org = sb.organization("acme")
    assert org.enterprise
    assert sb.user("alice") is not None
    assert org.members == {"bob"}
    assert list(org.teams) == ["platform"]
    assert org.properties["tier"].allowed_values == ["gold", "silver"]
    assert org.properties["owner"].value_type == "string"
    template = sb.repository("acme", "tpl")
    assert template is not None
    assert template.settings["is_template"] is True
    assert "members" not in installation.permissions
    assert installation.permissions["administration"] == "write"
    assert sb.faults.template_content_delay_s == 2.5
    _, installation = _built(tmp_path, "--permissions", "contents=read,metadata=read")
    assert installation.permissions == {"contents": "read", "metadata": "read"}


def test_cli_refuses_malformed_seeds(tmp_path: Path) -> None:
    for flags in (["--team", "nope"], ["--property", "acme/x"], ["--permissions", "a=b"]):
        with pytest.raises(SystemExit):
            _build(tmp_path, *flags)

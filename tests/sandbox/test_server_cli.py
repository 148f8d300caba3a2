"""``serve_in_thread`` over loopback, and the command line's key handling."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from sandbox import GitHubSandbox
from sandbox.cli import build_sandbox, load_or_create_key, parser
from sandbox.server import serve_in_thread
from tests.sandbox.conftest import UA


def test_serves_on_a_free_loopback_port(sandbox: GitHubSandbox) -> None:
    with serve_in_thread(sandbox) as base:
        assert base.startswith("http://127.0.0.1:")
        r = httpx.get(f"{base}/rate_limit", headers=UA)
        assert r.status_code == 401
    assert sandbox.count("GET", "/rate_limit") == 1


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

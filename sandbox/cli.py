"""``main(argv)``: serve a GitHub sandbox on a host and port, for demos and local runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from socket import socket

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.core import GitHubSandbox
from sandbox.faults import (
    GITHUB_MAX_CONCURRENT,
    GITHUB_WRITES_PER_HOUR,
    GITHUB_WRITES_PER_MINUTE,
    Faults,
)
from sandbox.state import DEFAULT_PERMISSIONS

__all__ = ["build_sandbox", "load_or_create_key", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line: App, installations, key file, listen address, faults."""
    p = argparse.ArgumentParser(prog="sandbox", description="Serve our own GitHub sandbox.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--app-id", type=int, required=True)
    p.add_argument(
        "--org",
        action="append",
        required=True,
        help="organization to install the App on (repeatable)",
    )
    p.add_argument(
        "--private-key",
        type=Path,
        required=True,
        help="the App's private key (PEM); generated (mode 0600) if missing",
    )
    p.add_argument("--web-url", default="https://github.com")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-validate", action="store_true", help="skip OpenAPI request checks")
    p.add_argument(
        "--primary-limit-per-hour",
        "--rate-limit",
        dest="rate_limit",
        type=int,
        default=5000,
        help="primary limit: requests per hour per installation (GitHub: 5000)",
    )
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--server-error-rate", type=float, default=0.0)
    p.add_argument("--rate-limit-429-rate", type=float, default=0.0)
    p.add_argument("--retry-after-s", type=int, default=60)
    p.add_argument("--post-create-404-s", type=float, default=0.0)
    p.add_argument("--drop-connection-rate", type=float, default=0.0)
    p.add_argument(
        "--template-content-delay-s",
        type=float,
        default=0.0,
        help="a repository generated from a template answers 404 this long, then has its files",
    )
    world = p.add_argument_group("the world (repeatable)")
    world.add_argument("--enterprise-org", action="append", default=[], metavar="ORG")
    world.add_argument("--user", action="append", default=[], metavar="LOGIN")
    world.add_argument("--member", action="append", default=[], type=_pair, metavar="ORG/LOGIN")
    world.add_argument("--team", action="append", default=[], type=_pair, metavar="ORG/SLUG")
    world.add_argument(
        "--property",
        action="append",
        default=[],
        type=_property,
        metavar="ORG/NAME=TYPE[:V1,V2]",
        help="a custom property of an org's schema, e.g. acme/tier=single_select:gold,silver",
    )
    world.add_argument(
        "--template", action="append", default=[], type=_pair, metavar="ORG/NAME",
        help="a template repository (is_template) with a README.md",
    )  # fmt: skip
    world.add_argument(
        "--permissions",
        type=_permissions,
        default=None,
        metavar="NAME=LEVEL,...",
        help="what each installation is granted (default: all provisioning uses)",
    )
    world.add_argument(
        "--without-permission", action="append", default=[], metavar="NAME",
        help="take one permission away from the installations",
    )  # fmt: skip
    limits = p.add_argument_group("secondary limits (off unless given)")
    limits.add_argument(
        "--github-limits",
        action="store_true",
        help=f"GitHub's: {GITHUB_WRITES_PER_MINUTE} writes/min, {GITHUB_WRITES_PER_HOUR}/h, "
        f"{GITHUB_MAX_CONCURRENT} concurrent (each overridable below)",
    )
    limits.add_argument(
        "--secondary-limit-per-minute",
        type=int,
        default=None,
        help="content-creating requests per installation in any 60 s",
    )
    limits.add_argument(
        "--secondary-limit-per-hour",
        type=int,
        default=None,
        help="content-creating requests per installation in any 3600 s",
    )
    limits.add_argument(
        "--max-concurrent-requests",
        type=int,
        default=None,
        help="requests per installation in flight at once",
    )
    return p


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    """The RSA key in ``path``; a new 2048-bit key is written there (0600) if missing."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise SystemExit(f"{path}: not an RSA private key")
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def build_sandbox(args: argparse.Namespace) -> tuple[GitHubSandbox, dict[str, int]]:
    """A sandbox configured from parsed arguments, and its installation ids by org."""
    key = load_or_create_key(args.private_key)
    sb = GitHubSandbox(
        args.app_id,
        key.public_key(),
        web_url=args.web_url,
        validate_requests=not args.no_validate,
        seed=args.seed,
        rate_limit=args.rate_limit,
    )
    permissions = dict(args.permissions or DEFAULT_PERMISSIONS)
    for name in args.without_permission:
        permissions.pop(name, None)
    installs = {org: sb.add_installation(org, permissions=permissions) for org in args.org}
    _seed(sb, args)
    f = sb.faults
    f.template_content_delay_s = args.template_content_delay_s
    f.latency_s = args.latency_ms / 1000
    f.server_error_rate = args.server_error_rate
    f.rate_limit_429_rate = args.rate_limit_429_rate
    f.retry_after_s = args.retry_after_s
    f.post_create_404_s = args.post_create_404_s
    f.drop_connection_rate = args.drop_connection_rate
    github = Faults.github_limits() if args.github_limits else Faults()
    f.secondary_limit_per_minute = _given(
        args.secondary_limit_per_minute, github.secondary_limit_per_minute
    )
    f.secondary_limit_per_hour = _given(
        args.secondary_limit_per_hour, github.secondary_limit_per_hour
    )
    f.max_concurrent_requests = _given(args.max_concurrent_requests, github.max_concurrent_requests)
    return sb, installs


def _given(value: int | None, fallback: int | None) -> int | None:
    return value if value is not None else fallback


def _seed(sb: GitHubSandbox, args: argparse.Namespace) -> None:
    for org in args.enterprise_org:
        sb.set_enterprise(org)
    for login in args.user:
        sb.add_user(login)
    for org, login in args.member:
        sb.add_user(login, member_of=[org])
    for org, slug in args.team:
        sb.add_team(org, slug)
    for org, name, value_type, allowed in args.property:
        sb.define_property(org, name, value_type, allowed_values=allowed)
    for org, name in args.template:
        sb.add_repository(org, name, {"README.md": f"# {name}\n"}, is_template=True)


def _pair(value: str) -> tuple[str, str]:
    left, sep, right = value.partition("/")
    if not sep or not left or not right or "/" in right:
        raise argparse.ArgumentTypeError(f"expected OWNER/NAME, got {value!r}")
    return left, right


def _property(value: str) -> tuple[str, str, str, list[str] | None]:
    where, sep, kind = value.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected ORG/NAME=TYPE[:V1,V2], got {value!r}")
    org, name = _pair(where)
    value_type, _, allowed = kind.partition(":")
    return org, name, value_type, [v for v in allowed.split(",") if v] or None


def _permissions(value: str) -> dict[str, str]:
    found = {}
    for item in value.split(","):
        name, sep, level = item.strip().partition("=")
        if not sep or level not in {"read", "write", "admin"}:
            raise argparse.ArgumentTypeError(f"expected NAME=read|write|admin, got {item!r}")
        found[name] = level
    return found


class _AnnouncingServer(uvicorn.Server):
    """Prints one line with the address once the server listens."""

    def __init__(self, config: uvicorn.Config, details: str) -> None:
        super().__init__(config)
        self.details = details

    async def startup(self, sockets: list[socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            print(f"GitHub sandbox listening on http://{host}:{port} ({self.details})", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until interrupted; returns the exit status."""
    args = parser().parse_args(argv)
    sb, installs = build_sandbox(args)
    details = f"app id {args.app_id}, installations " + ", ".join(
        f"{org}={iid}" for org, iid in installs.items()
    )
    config = uvicorn.Config(
        sb.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="off",
        date_header=False,  # the sandbox sends GitHub's Date, from its own clock
    )
    server = _AnnouncingServer(config, details)
    server.run()
    return 0 if server.started else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

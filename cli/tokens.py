"""``provisioner tokens ...`` and ``provisioner secrets ...``: credentials and keys at rest."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.common import fail, load_or_exit, run_or_exit

__all__ = ["secrets_app", "tokens_app"]

tokens_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
secrets_app = typer.Typer(help="Stored secret values: key rotation.", no_args_is_help=True)


@secrets_app.command("rekey")
def secrets_rekey() -> None:
    """Re-encrypt every stored secret value with the newest key of SECRETS_KEYS."""
    from shared.crypto import cipher_from
    from shared.db.engine import create_engine, create_sessionmaker
    from shared.projects.secret_keys import rekey_secrets

    settings = load_or_exit(serving=True)
    cipher = cipher_from(settings.secrets)

    async def go() -> tuple[int, int]:
        engine = create_engine(settings.database.url, application_name="provisioner-rekey")
        try:
            return await rekey_secrets(create_sessionmaker(engine), cipher)
        finally:
            await engine.dispose()

    rekeyed, stored = run_or_exit(go)
    typer.echo(f"re-encrypted {rekeyed} of {stored} stored secret values with key {cipher.key_id}")


@tokens_app.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help="user, ops or service")],
    subject: Annotated[str, typer.Option(help="Who the token is for (the owner name).")],
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime, like 90d, 12h or 30m (default: no expiry).")
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option(help="Limit a service token to this owner's projects (repeatable)."),
    ] = None,
) -> None:
    """Create an API token and print it once."""
    from shared.auth.models import TokenRole
    from shared.auth.service import issue_api_token, parse_duration

    if role not in {r.value for r in TokenRole}:
        raise fail(f"--role must be one of user, ops, service (got {role!r})", 2)
    if not subject.strip():
        raise fail("--subject must not be empty", 2)
    owners = [o.strip() for o in owner or []]
    if any(not o for o in owners):
        raise fail("--owner must not be empty", 2)
    if owners and role != TokenRole.SERVICE:
        raise fail("--owner limits service tokens only (use --role service)", 2)
    try:
        lifetime = parse_duration(expires_in) if expires_in is not None else None
    except ValueError as exc:
        raise fail(f"--expires-in: {exc}", 2) from None
    database_url = load_or_exit().database.url
    token = run_or_exit(
        lambda: issue_api_token(
            database_url,
            role=role,
            subject=subject.strip(),
            expires_in=lifetime,
            owners=owners or None,
        )
    )
    typer.echo(token)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else "-"


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never the token or its hash), oldest first."""
    from shared.auth.service import list_api_tokens

    database_url = load_or_exit().database.url
    tokens = run_or_exit(lambda: list_api_tokens(database_url))
    typer.echo(
        f"{'id':<36}  {'role':<7}  {'subject':<20}  {'owners':<20}  "
        f"{'created':<20}  {'expires':<20}  revoked"
    )
    for t in tokens:
        owners = ",".join(t.owners) if t.owners is not None else "*"
        typer.echo(
            f"{t.id}  {t.role:<7}  {t.subject:<20}  {owners:<20}  {_when(t.created_at):<20}  "
            f"{_when(t.expires_at):<20}  {_when(t.revoked_at)}"
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The id `tokens list` shows.")],
) -> None:
    """Revoke an API token: the API answers 401 to it within 5 s."""
    import uuid

    from shared.auth.service import revoke_api_token

    try:
        parsed = uuid.UUID(token_id)
    except ValueError:
        raise fail(f"{token_id!r} is not a token id (see `provisioner tokens list`)", 2) from None
    database_url = load_or_exit().database.url
    revoked = run_or_exit(lambda: revoke_api_token(database_url, parsed))
    if revoked is None:
        raise fail(f"no token has id {parsed}", 1)
    typer.echo(f"{revoked.id}  revoked at {_when(revoked.revoked_at)}")

"""Actions secrets: the repository's public key, sealed-box uploads, the list of names."""

from __future__ import annotations

import base64
import binascii

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from sandbox.context import Ctx, Reply, unprocessable
from sandbox.errors import not_found
from sandbox.handlers.paging import paginate
from sandbox.models import SandboxRepository, SecretRecord
from sandbox.names import secret_name_problem
from sandbox.payloads import iso

__all__ = [
    "MAX_SECRETS",
    "MAX_SECRET_BYTES",
    "delete_secret",
    "get_public_key",
    "get_secret",
    "list_secrets",
    "put_secret",
]

MAX_SECRETS = 100
MAX_SECRET_BYTES = 48 * 1024
_DOCS = "https://docs.github.com/rest/actions/secrets#create-or-update-a-repository-secret"


def get_public_key(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/actions/secrets/public-key."""
    ctx.docs = "https://docs.github.com/rest/actions/secrets#get-a-repository-public-key"
    repo = ctx.repo()
    key = PrivateKey(repo.secret_key).public_key
    return Reply(200, {"key_id": repo.public_key_id, "key": base64.b64encode(bytes(key)).decode()})


def _decrypt(repo: SandboxRepository, encrypted_value: str) -> str:
    try:
        sealed = base64.b64decode(encrypted_value, validate=True)
        plain = SealedBox(PrivateKey(repo.secret_key)).decrypt(sealed)
        return plain.decode("utf-8")
    except (binascii.Error, ValueError, CryptoError, UnicodeDecodeError) as exc:
        raise unprocessable(
            "Bad request: the secret value could not be decrypted with the repository key.",
            _DOCS,
        ) from exc


def put_secret(ctx: Ctx) -> Reply:
    """PUT .../actions/secrets/{secret_name}: 201 created, 204 updated."""
    ctx.docs = _DOCS
    repo = ctx.repo()
    raw_name = ctx.params["secret_name"]
    problem = secret_name_problem(raw_name)
    if problem:
        raise unprocessable(f"Invalid request.\n\n{problem}", _DOCS)
    name = raw_name.upper()
    body = ctx.json_body()
    key_id, encrypted = body.get("key_id"), body.get("encrypted_value")
    if not isinstance(key_id, str) or not isinstance(encrypted, str):
        raise unprocessable(
            'Invalid request.\n\n"encrypted_value" and "key_id" are required.', _DOCS
        )
    if key_id != repo.public_key_id:
        raise unprocessable("Bad request: key_id does not match the repository public key.", _DOCS)
    value = _decrypt(repo, encrypted)
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise unprocessable("Secret value is too large: the maximum is 48 KB.", _DOCS)
    now = ctx.state.clock()
    existing = repo.secret_records.get(name)
    if existing is not None:
        existing.value, existing.updated_at = value, now
        return Reply(204)
    if len(repo.secret_records) >= MAX_SECRETS:
        raise unprocessable(
            f"Secret limit reached: a repository can have at most {MAX_SECRETS} secrets.", _DOCS
        )
    repo.secret_records[name] = SecretRecord(value, now, now)
    return Reply(201, {})


def list_secrets(ctx: Ctx) -> Reply:
    """GET .../actions/secrets: names and times, never values."""
    ctx.docs = "https://docs.github.com/rest/actions/secrets#list-repository-secrets"
    repo = ctx.repo()
    items = sorted(repo.secret_records.items())
    url = f"{ctx.api}/repos/{repo.full_name}/actions/secrets"
    page, headers = paginate(items, ctx.query, url)
    secrets = [
        {"name": n, "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)}
        for n, r in page
    ]
    return Reply(200, {"total_count": len(items), "secrets": secrets}, headers)


def _record(ctx: Ctx, repo: SandboxRepository) -> tuple[str, SecretRecord]:
    name = ctx.params["secret_name"].upper()
    record = repo.secret_records.get(name)
    if record is None:
        raise not_found(ctx.docs)
    return name, record


def get_secret(ctx: Ctx) -> Reply:
    """GET .../actions/secrets/{secret_name}: its name and times (never the value)."""
    ctx.docs = "https://docs.github.com/rest/actions/secrets#get-a-repository-secret"
    name, record = _record(ctx, ctx.repo())
    body = {
        "name": name,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
    }
    return Reply(200, body)


def delete_secret(ctx: Ctx) -> Reply:
    """DELETE .../actions/secrets/{secret_name}: 204; 404 when there is no such secret."""
    ctx.docs = "https://docs.github.com/rest/actions/secrets#delete-a-repository-secret"
    repo = ctx.repo()
    name, _ = _record(ctx, repo)
    del repo.secret_records[name]
    return Reply(204)

"""What the client returns: small frozen records, parsed from GitHub's JSON."""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ActionsPublicKey", "Installation", "RepoFile", "Repository"]


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Installation:
    """Where the App is installed: the installation id and its account."""

    id: int
    account_login: str
    account_type: str
    app_id: int | None = None
    """The App's numeric id (the JWT may name the App by its client id instead)."""
    permissions: Mapping[str, str] = field(default_factory=dict, compare=False)
    """What the installation was granted (``{"contents": "write", ...}``)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Installation:
        account = data.get("account") or {}
        granted = data.get("permissions") or {}
        return cls(
            id=int(data["id"]),
            account_login=str(account.get("login", "")),
            account_type=str(account.get("type", "")),
            app_id=int(data["app_id"]) if data.get("app_id") is not None else None,
            permissions={str(k): str(v) for k, v in granted.items()},
        )


@dataclass(frozen=True)
class Repository:
    """A repository as GitHub named it (it may have changed the name we asked for)."""

    id: int
    owner: str
    name: str
    full_name: str
    html_url: str
    clone_url: str
    default_branch: str
    private: bool
    created_at: datetime | None
    size: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Repository:
        return cls(
            id=int(data["id"]),
            owner=str(data["owner"]["login"]),
            name=str(data["name"]),
            full_name=str(data["full_name"]),
            html_url=str(data["html_url"]),
            clone_url=str(data["clone_url"]),
            default_branch=str(data.get("default_branch") or "main"),
            private=bool(data.get("private", True)),
            created_at=_timestamp(data.get("created_at")),
            size=int(data.get("size") or 0),
        )


@dataclass(frozen=True)
class RepoFile:
    """A file read through the contents API: its bytes and blob sha."""

    path: str
    sha: str
    content: bytes

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RepoFile:
        encoded = str(data.get("content", ""))
        return cls(path=str(data["path"]), sha=str(data["sha"]), content=b64decode(encoded))


@dataclass(frozen=True)
class ActionsPublicKey:
    """A repository's key for sealing Actions secrets."""

    key_id: str
    key: str

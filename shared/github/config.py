"""The GitHub client's configuration: a plain frozen value the caller builds and hands in.

The client never reads the environment; ``shared.settings`` builds this from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = ["DEFAULT_API_URL", "GitHubConfig"]

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GitHubConfig:
    """How to reach GitHub as one App.

    ``app_id``: the App's id or client id (the JWT's ``iss``). ``private_key``: the
    App's key, parsed once. ``api_url``: ``https://HOST/api/v3`` for GitHub Enterprise
    Server. ``org``: the organization whose installation to use; ``None`` means the
    only organization installation.
    """

    app_id: str
    private_key: RSAPrivateKey = field(repr=False)
    api_url: str = DEFAULT_API_URL
    org: str | None = None
    user_agent: str = "provisioner/0.1"
    timeout_s: float = 10.0

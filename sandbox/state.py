"""The sandbox's world: accounts, installations, repositories, and the changes made to them."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from nacl.public import PrivateKey

from sandbox.gitobjects import blob_sha, commit_sha, tree_sha
from sandbox.limits import LimitGate
from sandbox.models import Account, Commit, Installation, Organization, SandboxRepository, Team
from sandbox.properties import initial_values
from sandbox.ratelimit import PrimaryLimiter
from sandbox.tokens import TokenStore

__all__ = ["DEFAULT_PERMISSIONS", "SandboxState"]

DEFAULT_PERMISSIONS = {
    "administration": "write",
    "contents": "write",
    "secrets": "write",
    "actions_variables": "write",
    "actions": "read",
    "repository_custom_properties": "write",
    "metadata": "read",
    "pull_requests": "write",
    "members": "read",
    "organization_custom_properties": "read",
}
"""What an installation is granted unless told otherwise: all that provisioning uses."""


class SandboxState:
    """Everything the simulated GitHub knows; guarded by ``lock``."""

    def __init__(
        self,
        *,
        app_id: int,
        app_slug: str,
        clock: Callable[[], float],
        seed: int,
        rate_limit: int = 5000,
    ) -> None:
        self.app_id = app_id
        self.app_slug = app_slug
        self.clock = clock
        self.lock = threading.RLock()
        self.rng = random.Random(seed)  # noqa: S311 - deterministic ids, not secrets
        self.client_id = "Iv23" + "".join(self.rng.choices("0123456789abcdef", k=16))
        self.created_at = clock()
        self.app_owner = Account(self._new_id(), "sandbox-app-owner", "Organization")
        self.accounts: dict[str, Account] = {}
        self.orgs: dict[str, Organization] = {}
        self.bot = Account(app_id, f"{app_slug}[bot]", "Bot")
        self._filling: list[SandboxRepository] = []
        self.installations: dict[int, Installation] = {}
        self.repos: dict[tuple[str, str], SandboxRepository] = {}
        self.tokens = TokenStore(random.Random(seed + 1))  # noqa: S311 - see TokenStore
        self.limiter = PrimaryLimiter(rate_limit)
        self.limits = LimitGate(self.limiter)

    def _new_id(self) -> int:
        return self.rng.randrange(10_000_000, 999_999_999)

    def new_id(self) -> int:
        """A fresh id for a team, invitation, ruleset, environment..."""
        return self._new_id()

    def account(self, login: str, account_type: str = "Organization") -> Account:
        """The account named ``login`` (case-insensitive), created when new."""
        found = self.accounts.get(login.lower())
        if found is None:
            found = Account(self._new_id(), login, account_type)
            self.accounts[login.lower()] = found
        return found

    def org(self, login: str) -> Organization:
        """The organization ``login`` (case-insensitive), created when new."""
        found = self.orgs.get(login.lower())
        if found is None:
            found = Organization(self.account(login, "Organization"))
            self.orgs[login.lower()] = found
        return found

    def user(self, login: str) -> Account | None:
        """The user ``login`` (case-insensitive), if the sandbox knows it."""
        found = self.accounts.get(login.lower())
        return found if found is not None and found.type == "User" else None

    def team(self, org: str, slug: str) -> Team | None:
        """The team ``slug`` of ``org`` (both case-insensitive), if any."""
        found = self.orgs.get(org.lower())
        return found.teams.get(slug.lower()) if found is not None else None

    def add_installation(self, login: str, account_type: str, permissions: dict[str, str]) -> int:
        """Install the App on ``login``; returns the installation id."""
        account = self.account(login, account_type)
        inst = Installation(self._new_id(), account, dict(permissions), self.clock())
        self.installations[inst.id] = inst
        return inst.id

    def installation_for(self, login: str) -> Installation | None:
        """The installation on account ``login`` (case-insensitive), if any."""
        for inst in self.installations.values():
            if inst.account.login.lower() == login.lower():
                return inst
        return None

    def repository(self, owner: str, name: str) -> SandboxRepository | None:
        """The repository ``owner/name`` (case-insensitive), if it exists."""
        return self.repos.get((owner.lower(), name.lower()))

    def create_repository(
        self,
        owner: str,
        name: str,
        *,
        private: bool,
        description: str | None = None,
        settings: dict[str, Any] | None = None,
        by_api: bool = False,
    ) -> SandboxRepository:
        """A new, empty repository with its own Actions key pair."""
        now = self.clock()
        key = PrivateKey.from_seed(self.rng.randbytes(32))
        repo = SandboxRepository(
            id=self._new_id(),
            owner=self.account(owner),
            name=name,
            private=private,
            description=description,
            created_at=now,
            updated_at=now,
            public_key_id=str(self.rng.randrange(10**17, 10**18)),
            secret_key=bytes(key),
            created_by_api=by_api,
            settings=dict(settings or {}),
        )
        if repo.owner.type == "Organization":
            repo.custom_properties = initial_values(self.org(owner))
        self.repos[(owner.lower(), name.lower())] = repo
        return repo

    def delete_repository(self, repo: SandboxRepository) -> None:
        """Remove ``repo``."""
        self.repos.pop((repo.owner.login.lower(), repo.name.lower()), None)

    def rename_repository(self, repo: SandboxRepository, name: str) -> None:
        """Give ``repo`` a new name (the caller checked it is free)."""
        self.repos.pop((repo.owner.login.lower(), repo.name.lower()), None)
        repo.name = name
        self.repos[(repo.owner.login.lower(), name.lower())] = repo

    def fill_later(self, repo: SandboxRepository, files: dict[str, bytes], at: float) -> None:
        """Give ``repo`` the files of its template at ``at``; until then it answers 404."""
        repo.content_ready_at, repo.pending_files = at, dict(files)
        self._filling.append(repo)

    def settle(self) -> None:
        """Land the copied files of template generations whose delay has passed."""
        if not self._filling:
            return
        now = self.clock()
        for repo in list(self._filling):
            if repo.content_ready_at is None or now >= repo.content_ready_at:
                self._filling.remove(repo)
                repo.content_ready_at = None
                files, repo.pending_files = repo.pending_files, {}
                for path, content in files.items():
                    self.commit_file(repo, path, content, "Initial commit", self.bot_author())

    def commit_file(
        self,
        repo: SandboxRepository,
        path: str,
        content: bytes,
        message: str,
        author: dict[str, str],
    ) -> Commit:
        """Write ``path`` on the default branch as one new commit."""
        now = self.clock()
        repo.files[path] = content
        tree = tree_sha({p: blob_sha(c) for p, c in repo.files.items()})
        parent = repo.head
        sha = commit_sha(tree, parent, f"{author['name']} <{author['email']}>", now, message)
        commit = Commit(sha, path, message, blob_sha(content), content, dict(author), now, parent)
        repo.commits.append(commit)
        repo.pushed_at = repo.updated_at = now
        return commit

    def delete_file(
        self, repo: SandboxRepository, path: str, message: str, author: dict[str, str]
    ) -> Commit:
        """Remove ``path`` from the default branch as one new commit."""
        now = self.clock()
        old = repo.files.pop(path)
        tree = tree_sha({p: blob_sha(c) for p, c in repo.files.items()})
        parent = repo.head
        sha = commit_sha(tree, parent, f"{author['name']} <{author['email']}>", now, message)
        commit = Commit(sha, path, message, blob_sha(old), b"", dict(author), now, parent, True)
        repo.commits.append(commit)
        repo.pushed_at = repo.updated_at = now
        return commit

    def files_at(self, repo: SandboxRepository, ref: str | None) -> dict[str, bytes] | None:
        """The files at branch or commit ``ref`` (None: the default branch); None if unknown."""
        if ref is None or ref in {repo.default_branch, f"refs/heads/{repo.default_branch}"}:
            return repo.files
        files: dict[str, bytes] = {}
        for commit in repo.commits:
            if commit.deleted:
                files.pop(commit.path, None)
            else:
                files[commit.path] = commit.content
            if commit.sha == ref or (len(ref) >= 7 and commit.sha.startswith(ref)):
                return files
        return None

    def bot_author(self) -> dict[str, str]:
        """The App's bot identity, the author of commits made with its tokens."""
        return {
            "name": f"{self.app_slug}[bot]",
            "email": f"{self.app_id}+{self.app_slug}[bot]@users.noreply.github.com",
        }

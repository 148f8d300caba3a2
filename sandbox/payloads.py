"""JSON bodies in the shapes of GitHub's description (``full-repository``, ``installation``...).

``api`` is the base URL the request came in on (API links point back at the sandbox);
``web`` the configurable web base URL (``html_url``, ``clone_url``...).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sandbox.gitobjects import blob_sha
from sandbox.models import Account, Commit, Installation, SandboxRepository
from sandbox.repo_settings import setting

__all__ = [
    "account_json",
    "app_json",
    "commit_json",
    "content_file_json",
    "installation_json",
    "iso",
    "node_id",
    "repository_json",
]


def iso(ts: float) -> str:
    """Epoch seconds as GitHub's ``2011-01-26T19:01:12Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, number: int) -> str:
    """A GraphQL-style node id (``R_kgDO...``)."""
    return prefix + base64.b64encode(number.to_bytes(8, "big")).decode().rstrip("=")


def account_json(account: Account, api: str, web: str) -> dict[str, Any]:
    """The ``simple-user`` shape."""
    user = f"{api}/users/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id("O_kgDO" if account.type == "Organization" else "U_kgDO", account.id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account.id}?v=4",
        "gravatar_id": "",
        "url": user,
        "html_url": f"{web}/{account.login}",
        "followers_url": f"{user}/followers",
        "following_url": f"{user}/following{{/other_user}}",
        "gists_url": f"{user}/gists{{/gist_id}}",
        "starred_url": f"{user}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{user}/subscriptions",
        "organizations_url": f"{user}/orgs",
        "repos_url": f"{user}/repos",
        "events_url": f"{user}/events{{/privacy}}",
        "received_events_url": f"{user}/received_events",
        "type": account.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app_json(
    *,
    app_id: int,
    slug: str,
    client_id: str,
    owner: Account,
    created_at: float,
    permissions: dict[str, str],
    installations: int,
    api: str,
    web: str,
) -> dict[str, Any]:
    """The ``integration`` shape of GET /app."""
    return {
        "id": app_id,
        "slug": slug,
        "node_id": node_id("A_kwHO", app_id),
        "client_id": client_id,
        "owner": account_json(owner, api, web),
        "name": slug,
        "description": "Creates repositories for projects (sandbox).",
        "external_url": f"{web}/{owner.login}",
        "html_url": f"{web}/apps/{slug}",
        "created_at": iso(created_at),
        "updated_at": iso(created_at),
        "permissions": dict(permissions),
        "events": [],
        "installations_count": installations,
    }


def installation_json(
    inst: Installation, *, app_id: int, slug: str, client_id: str, api: str, web: str
) -> dict[str, Any]:
    """The ``installation`` shape."""
    org_settings = "organizations/" if inst.account.type == "Organization" else ""
    # GET /app/installations describes the account as simple-user *and* enterprise
    account = account_json(inst.account, api, web) | {
        "name": inst.account.login,
        "slug": inst.account.login.lower(),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
    }
    return {
        "id": inst.id,
        "client_id": client_id,
        "account": account,
        "repository_selection": "all",
        "access_tokens_url": f"{api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{api}/installation/repositories",
        "html_url": f"{web}/{org_settings}{inst.account.login}/settings/installations/{inst.id}",
        "app_id": app_id,
        "app_slug": slug,
        "target_id": inst.account.id,
        "target_type": inst.account.type,
        "permissions": dict(inst.permissions),
        "events": [],
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


_TEMPLATED = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository_json(
    repo: SandboxRepository, api: str, web: str, *, full: bool = True
) -> dict[str, Any]:
    """The ``full-repository`` shape (``repository`` when ``full`` is False)."""
    url = f"{api}/repos/{repo.full_name}"
    host = urlsplit(web).netloc or "github.com"
    body: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("R_kgDO", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": account_json(repo.owner, api, web),
        "html_url": f"{web}/{repo.full_name}",
        "description": repo.description,
        "fork": False,
        "url": url,
        **{key: url + suffix for key, suffix in _TEMPLATED.items()},
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at or repo.created_at),
        "pushed_at": iso(repo.pushed_at or repo.created_at),
        "git_url": f"git://{host}/{repo.full_name}.git",
        "ssh_url": f"git@{host}:{repo.full_name}.git",
        "clone_url": f"{web}/{repo.full_name}.git",
        "svn_url": f"{web}/{repo.full_name}",
        "homepage": setting(repo, "homepage"),
        "mirror_url": None,
        "size": sum(len(c) for c in repo.files.values()) // 1024,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        **{k: setting(repo, k) for k in _FLAGS},
        "has_pages": False,
        "forks_count": 0,
        "archived": repo.archived,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": setting(repo, "allow_forking"),
        "is_template": setting(repo, "is_template"),
        "web_commit_signoff_required": setting(repo, "web_commit_signoff_required"),
        "topics": list(repo.topics),
        "visibility": repo.visibility,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": repo.default_branch,
        "permissions": {
            "admin": True,
            "maintain": True,
            "push": True,
            "triage": True,
            "pull": True,
        },
    }
    if full:
        body.update({k: setting(repo, k) for k in _MERGE_SETTINGS})
        body.update(
            {
                "temp_clone_token": "",
                "network_count": 0,
                "subscribers_count": 0,
                "custom_properties": dict(repo.custom_properties),
            }
        )
        if setting(repo, "security_and_analysis") is not None:
            body["security_and_analysis"] = setting(repo, "security_and_analysis")
        if repo.template is not None:
            body["template_repository"] = repository_json(repo.template, api, web, full=False)
        if repo.owner.type == "Organization":
            body["organization"] = account_json(repo.owner, api, web)
    return body


_FLAGS = (
    "has_issues",
    "has_projects",
    "has_downloads",
    "has_wiki",
    "has_discussions",
    "has_pull_requests",
    "pull_request_creation_policy",
)
_MERGE_SETTINGS = (
    "allow_squash_merge",
    "allow_merge_commit",
    "allow_rebase_merge",
    "allow_auto_merge",
    "delete_branch_on_merge",
    "allow_update_branch",
    "use_squash_pr_title_as_default",
    "squash_merge_commit_title",
    "squash_merge_commit_message",
    "merge_commit_title",
    "merge_commit_message",
)


def _file_links(repo: SandboxRepository, path: str, sha: str, api: str, web: str) -> dict[str, str]:
    quoted = quote(path)
    return {
        "url": f"{api}/repos/{repo.full_name}/contents/{quoted}?ref={repo.default_branch}",
        "html_url": f"{web}/{repo.full_name}/blob/{repo.default_branch}/{quoted}",
        "git_url": f"{api}/repos/{repo.full_name}/git/blobs/{sha}",
        "download_url": (
            f"https://raw.githubusercontent.com/{repo.full_name}/{repo.default_branch}/{quoted}"
        ),
    }


def content_file_json(
    repo: SandboxRepository, path: str, content: bytes, api: str, web: str, *, full: bool = True
) -> dict[str, Any]:
    """The ``content-file`` shape (GET contents), or the ``content`` of ``file-commit``."""
    sha = blob_sha(content)
    links = _file_links(repo, path, sha, api, web)
    body: dict[str, Any] = {
        "type": "file",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": len(content),
        **links,
        "_links": {"self": links["url"], "git": links["git_url"], "html": links["html_url"]},
    }
    if full:
        encoded = base64.b64encode(content).decode()
        # GitHub wraps the base64 text at 60 characters
        body["content"] = "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))
        body["encoding"] = "base64"
    return body


def commit_json(
    repo: SandboxRepository, commit: Commit, tree: str, api: str, web: str
) -> dict[str, Any]:
    """The ``commit`` part of ``file-commit``."""
    person = {**commit.author, "date": iso(commit.time)}
    parents = []
    if commit.parent:
        parents.append(
            {
                "url": f"{api}/repos/{repo.full_name}/git/commits/{commit.parent}",
                "html_url": f"{web}/{repo.full_name}/commit/{commit.parent}",
                "sha": commit.parent,
            }
        )
    return {
        "sha": commit.sha,
        "node_id": node_id("C_kwDO", int(commit.sha[:12], 16)),
        "url": f"{api}/repos/{repo.full_name}/git/commits/{commit.sha}",
        "html_url": f"{web}/{repo.full_name}/commit/{commit.sha}",
        "author": person,
        "committer": person,
        "message": commit.message,
        "tree": {"url": f"{api}/repos/{repo.full_name}/git/trees/{tree}", "sha": tree},
        "parents": parents,
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }

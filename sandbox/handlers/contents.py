"""Contents endpoints: read a file, create or update it as one commit."""

from __future__ import annotations

import base64
import binascii

from sandbox.context import Ctx, Reply, unprocessable
from sandbox.errors import GitHubError, invalid_request, not_found
from sandbox.gitobjects import blob_sha, tree_sha
from sandbox.payloads import commit_json, content_file_json

__all__ = ["delete_content", "get_content", "put_content"]

_GET_DOCS = "https://docs.github.com/rest/repos/contents#get-repository-content"
_PUT_DOCS = "https://docs.github.com/rest/repos/contents#create-or-update-file-contents"


def _path(ctx: Ctx) -> str:
    return ctx.params["path"].strip("/")


def get_content(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/contents/{path}: a file, at ``ref`` if given."""
    ctx.docs = _GET_DOCS
    repo = ctx.repo()
    if not repo.commits:
        raise GitHubError(404, "This repository is empty.", documentation_url=_GET_DOCS)
    ref = ctx.query.get("ref")
    files = ctx.state.files_at(repo, ref)
    if files is None:
        raise GitHubError(404, f"No commit found for the ref {ref}", documentation_url=_GET_DOCS)
    path = _path(ctx)
    if path not in files:
        raise not_found(_GET_DOCS)
    return Reply(200, content_file_json(repo, path, files[path], ctx.api, ctx.web))


def put_content(ctx: Ctx) -> Reply:
    """PUT /repos/{owner}/{repo}/contents/{path}: 201 new file, 200 updated, sha rules."""
    ctx.docs = _PUT_DOCS
    repo = ctx.repo()
    body = ctx.json_body()
    for field in ("message", "content"):
        if not isinstance(body.get(field), str):
            raise invalid_request(f'"{field}" wasn\'t supplied.', _PUT_DOCS)
    try:
        content = base64.b64decode(body["content"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid_request("content is not valid Base64", _PUT_DOCS) from exc
    branch = body.get("branch")
    if branch not in {None, repo.default_branch} and repo.commits:
        raise GitHubError(404, f"Branch {branch} not found", documentation_url=_PUT_DOCS)
    path = _path(ctx)
    current = repo.files.get(path)
    sha = body.get("sha")
    if current is not None:
        if sha is None:
            raise invalid_request('"sha" wasn\'t supplied.', _PUT_DOCS)
        if sha != blob_sha(current):
            raise GitHubError(409, f"{path} does not match {sha}", documentation_url=_PUT_DOCS)
    elif sha is not None and repo.commits:
        raise GitHubError(409, f"{path} does not match {sha}", documentation_url=_PUT_DOCS)
    author = _person(body.get("author") or body.get("committer")) or ctx.state.bot_author()
    commit = ctx.state.commit_file(repo, path, content, body["message"], author)
    tree = tree_sha({p: blob_sha(c) for p, c in repo.files.items()})
    answer = {
        "content": content_file_json(repo, path, content, ctx.api, ctx.web, full=False),
        "commit": commit_json(repo, commit, tree, ctx.api, ctx.web),
    }
    return Reply(201 if current is None else 200, answer)


def delete_content(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}/contents/{path}: one commit; needs the blob ``sha``."""
    docs = ctx.docs = "https://docs.github.com/rest/repos/contents#delete-a-file"
    repo = ctx.repo()
    body = ctx.json_body()
    for field in ("message", "sha"):
        if not isinstance(body.get(field), str):
            raise invalid_request(f'"{field}" wasn\'t supplied.', docs)
    branch = body.get("branch")
    if branch not in {None, repo.default_branch}:
        raise GitHubError(404, f"Branch {branch} not found", documentation_url=docs)
    path = _path(ctx)
    current = repo.files.get(path)
    if current is None:
        raise not_found(docs)
    if body["sha"] != blob_sha(current):
        raise GitHubError(409, f"{path} does not match {body['sha']}", documentation_url=docs)
    author = _person(body.get("author") or body.get("committer")) or ctx.state.bot_author()
    commit = ctx.state.delete_file(repo, path, body["message"], author)
    tree = tree_sha({p: blob_sha(c) for p, c in repo.files.items()})
    return Reply(
        200, {"content": None, "commit": commit_json(repo, commit, tree, ctx.api, ctx.web)}
    )


def _person(value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    name, email = value.get("name"), value.get("email")
    if not isinstance(name, str) or not isinstance(email, str):
        raise unprocessable("Invalid request.\n\nauthor/committer needs name and email.", _PUT_DOCS)
    return {"name": name, "email": email}

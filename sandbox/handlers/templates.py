"""POST /repos/{template_owner}/{template_repo}/generate: a repository from a template."""

from __future__ import annotations

from sandbox.context import Ctx, Reply, unprocessable
from sandbox.errors import not_accessible, not_found
from sandbox.handlers.repos import check_new_name
from sandbox.payloads import repository_json
from sandbox.repo_settings import setting

__all__ = ["create_using_template"]

_DOCS = "https://docs.github.com/rest/repos/repos#create-a-repository-using-a-template"


def create_using_template(ctx: Ctx) -> Reply:
    """201 with the new repository; its copied files land after ``template_content_delay_s``.

    The template must be visible to the token (its own or public; else 404) and have
    ``is_template`` (else 422). Until the content lands the new repository answers 404.
    """
    assert ctx.token is not None
    assert ctx.installation is not None
    ctx.docs = _DOCS
    s = ctx.state
    template = s.repository(ctx.params["template_owner"], ctx.params["template_repo"])
    if (
        template is None
        or ctx.settling(template)
        or not (ctx.can_see(template) or not template.private)
    ):
        raise not_found(_DOCS)
    body = ctx.json_body()
    owner = str(body.get("owner") or ctx.installation.account.login)
    if owner.lower() != ctx.installation.account.login.lower():
        raise not_accessible(_DOCS)
    if ctx.token.repository_ids is not None:
        raise not_accessible(_DOCS)
    ctx.authorize()
    if not setting(template, "is_template"):
        raise unprocessable(f"{template.full_name} is not a template repository.", _DOCS)
    name = check_new_name(ctx, owner, body.get("name"), _DOCS)
    repo = s.create_repository(
        ctx.installation.account.login,
        name,
        private=bool(body.get("private", False)),
        description=body.get("description") or None,
        by_api=True,
    )
    repo.template = template
    files = dict(template.files)
    delay = ctx.faults.template_content_delay_s
    if delay > 0:
        s.fill_later(repo, files, s.clock() + delay)
    else:
        for path, content in files.items():
            s.commit_file(repo, path, content, "Initial commit", s.bot_author())
    return Reply(201, repository_json(repo, ctx.api, ctx.web))

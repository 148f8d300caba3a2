"""Collaborators and their invitations: only accepted people are collaborators.

``PUT .../collaborators/{username}``: 201 with a new invitation; 201 with the same,
updated, invitation while one is pending; 204 when the access exists already (the
role is changed) or for an organization member (added at once).
"""

from __future__ import annotations

from sandbox.context import Ctx, Reply
from sandbox.errors import GitHubError, not_found
from sandbox.handlers.paging import paginate
from sandbox.models import Account, Collaborator, Invitation, SandboxRepository
from sandbox.payloads_access import collaborator_json, invitation_json
from sandbox.roles import ROLES, role_from_invitation

__all__ = [
    "add_collaborator",
    "check_collaborator",
    "delete_invitation",
    "list_collaborators",
    "list_invitations",
    "remove_collaborator",
    "update_invitation",
]

_DOCS = "https://docs.github.com/rest/collaborators/collaborators"
_INVITATION_DOCS = "https://docs.github.com/rest/collaborators/invitations"


def _invalid_role(docs: str) -> GitHubError:
    return GitHubError(
        422,
        "Validation Failed",
        documentation_url=docs,
        errors=[{"resource": "Repository", "code": "invalid", "field": "permission"}],
    )


def list_collaborators(ctx: Ctx) -> Reply:
    """GET .../collaborators: accepted collaborators (``affiliation``, ``permission`` filters)."""
    ctx.docs = f"{_DOCS}#list-repository-collaborators"
    repo = ctx.repo()
    members = ctx.state.org(repo.owner.login).members
    affiliation = ctx.query.get("affiliation", "all")
    wanted = ctx.query.get("permission")
    found = [
        c
        for key, c in sorted(repo.collaborators.items())
        if (affiliation != "outside" or key not in members) and wanted in {None, c.role}
    ]
    page, headers = paginate(found, ctx.query, f"{ctx.api}/repos/{repo.full_name}/collaborators")
    return Reply(
        200, [collaborator_json(c.account, c.role, ctx.api, ctx.web) for c in page], headers
    )


def check_collaborator(ctx: Ctx) -> Reply:
    """GET .../collaborators/{username}: 204 for a collaborator, else 404."""
    ctx.docs = f"{_DOCS}#check-if-a-user-is-a-repository-collaborator"
    repo = ctx.repo()
    if ctx.params["username"].lower() not in repo.collaborators:
        raise not_found(ctx.docs)
    return Reply(204)


def _pending_for(repo: SandboxRepository, user: Account) -> Invitation | None:
    return next((i for i in repo.invitations.values() if i.invitee.id == user.id), None)


def add_collaborator(ctx: Ctx) -> Reply:
    """PUT .../collaborators/{username} ``{permission}`` (default ``push``)."""
    ctx.docs = f"{_DOCS}#add-a-repository-collaborator"
    repo = ctx.repo()
    user = ctx.state.user(ctx.params["username"])
    if user is None:
        raise not_found(ctx.docs)
    role = ctx.json_body().get("permission", "push")
    if role not in ROLES:
        raise _invalid_role(ctx.docs)
    key = user.login.lower()
    existing = repo.collaborators.get(key)
    if existing is not None:
        existing.role = role
        return Reply(204)
    if key in ctx.state.org(repo.owner.login).members:
        repo.collaborators[key] = Collaborator(user, role)
        return Reply(204)
    invitation = _pending_for(repo, user)
    if invitation is None:
        s = ctx.state
        invitation = Invitation(s.new_id(), user, s.bot, role, s.clock())
        repo.invitations[invitation.id] = invitation
    invitation.role = role
    return Reply(201, invitation_json(invitation, repo, ctx.api, ctx.web))


def remove_collaborator(ctx: Ctx) -> Reply:
    """DELETE .../collaborators/{username}: 204; also withdraws a pending invitation."""
    ctx.docs = f"{_DOCS}#remove-a-repository-collaborator"
    repo = ctx.repo()
    key = ctx.params["username"].lower()
    repo.collaborators.pop(key, None)
    for invitation in [i for i in repo.invitations.values() if i.invitee.login.lower() == key]:
        del repo.invitations[invitation.id]
    return Reply(204)


def list_invitations(ctx: Ctx) -> Reply:
    """GET .../invitations: the pending invitations, oldest first."""
    ctx.docs = f"{_INVITATION_DOCS}#list-repository-invitations"
    repo = ctx.repo()
    found = sorted(repo.invitations.values(), key=lambda i: (i.created_at, i.id))
    page, headers = paginate(found, ctx.query, f"{ctx.api}/repos/{repo.full_name}/invitations")
    return Reply(200, [invitation_json(i, repo, ctx.api, ctx.web) for i in page], headers)


def _invitation(ctx: Ctx, repo: SandboxRepository) -> Invitation:
    return ctx.numbered(repo.invitations, "invitation_id")


def update_invitation(ctx: Ctx) -> Reply:
    """PATCH .../invitations/{invitation_id} ``{permissions}``: 200 with the invitation."""
    ctx.docs = f"{_INVITATION_DOCS}#update-a-repository-invitation"
    repo = ctx.repo()
    invitation = _invitation(ctx, repo)
    permission = ctx.json_body().get("permissions")
    if permission is not None:
        invitation.role = role_from_invitation(str(permission))
    return Reply(200, invitation_json(invitation, repo, ctx.api, ctx.web))


def delete_invitation(ctx: Ctx) -> Reply:
    """DELETE .../invitations/{invitation_id}: 204; 404 for an unknown invitation."""
    ctx.docs = f"{_INVITATION_DOCS}#delete-a-repository-invitation"
    repo = ctx.repo()
    del repo.invitations[_invitation(ctx, repo).id]
    return Reply(204)

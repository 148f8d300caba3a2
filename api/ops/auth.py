"""Who is using the console: the signed-in operator, checked forms, and the pages' errors.

:data:`OperatorDep` is the ``ops`` principal behind the session cookie; without
a valid session a page redirects to the sign-in form (htmx requests and the
change stream get 401 with ``HX-Redirect``). :data:`FormDep` is a POSTed form
whose CSRF field matches the session's, from this origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from api.deps import Resources, ResourcesDep, look_up_principal
from api.ops.sessions import SESSION_COOKIE, OpsSession, SessionStore, csrf_matches
from shared.auth.models import TokenRole
from shared.auth.principal import Principal
from shared.errors import RequestRejected

__all__ = [
    "MAX_FORM_FIELDS",
    "FormDep",
    "NotSignedIn",
    "Operator",
    "OperatorDep",
    "PageError",
    "read_form",
    "session_store",
]

MAX_FORM_FIELDS = 20
FORM_TYPE = "application/x-www-form-urlencoded"


class NotSignedIn(Exception):
    """No valid console session: sign in (again)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PageError(Exception):
    """A console request that cannot be served, shown as a page with ``status``."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Operator:
    """The signed-in ``ops`` caller of a console request."""

    principal: Principal
    session_id: str
    session: OpsSession

    @property
    def subject(self) -> str:
        """Who signed in (the token's subject)."""
        return self.principal.subject

    @property
    def csrf(self) -> str:
        """The CSRF token every form of this session carries."""
        return self.session.csrf


def session_store(resources: Resources) -> SessionStore:
    """The console's sessions (the console must be configured)."""
    if resources.ops is None:
        raise RuntimeError("the ops console is not configured")
    return SessionStore(
        resources.queue, resources.ops.queue_name, ttl_s=resources.ops.session_ttl_s
    )


async def _operator(request: Request, resources: ResourcesDep) -> Operator:
    store = session_store(resources)
    session_id = request.cookies.get(SESSION_COOKIE)
    session = await store.get(session_id)
    if session is None or session_id is None:
        raise NotSignedIn("sign in with an ops token")
    principal = resources.principals.get(session.token_hash)
    if principal is None:
        try:
            async with resources.sessionmaker() as db:
                principal = await look_up_principal(db, resources.principals, session.token_hash)
        except RequestRejected:
            await store.delete(session_id)
            raise NotSignedIn("your token was revoked or has expired: sign in again") from None
    if principal.role != TokenRole.OPS:
        await store.delete(session_id)
        raise NotSignedIn("only an ops token may use the console")
    return Operator(principal=principal, session_id=session_id, session=session)


OperatorDep = Annotated[Operator, Depends(_operator)]


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (first value of each field), or a 4xx :class:`PageError`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise PageError(415, "Not a form", f"send the form as {FORM_TYPE}")
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "Bad form", "the form could not be read") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def same_origin(request: Request) -> bool:
    """Whether a POST came from a page of this console (when the browser says where from)."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent: the SameSite=Strict cookie and the CSRF field still hold
        return True
    expected = f"{request.url.scheme}://{request.url.netloc}"
    return origin == expected


async def _checked_form(request: Request, operator: OperatorDep) -> dict[str, str]:
    if not same_origin(request):
        raise PageError(403, "Refused", "the form was sent from another site")
    form = await read_form(request)
    if not csrf_matches(operator.csrf, form.get("csrf")):
        raise PageError(
            403, "Refused", "the form is stale or was not sent by this console: reload and retry"
        )
    return form


FormDep = Annotated[dict[str, str], Depends(_checked_form)]

"""The one failure model: every failure in provisioner is a :class:`ProvisionerError`.

Each class has a stable ``code`` (unique across the project, GitHub's codes
included: a unit test checks it), says whether trying again can help
(``transient``) and how long to wait when that is known (``retry_after``),
carries a sentence for people (``message``) and, for bad input, the ``field``
at fault. A pause that is no failure (a long job continuing, a wait for the
GitHub budget) has ``spends_attempt`` false: the job defers itself and its
attempt is not counted. The worker turns any exception into a :class:`Failure` with
:func:`shared.failures.classify`; the API turns a :class:`RequestRejected`
into its error answer with :attr:`RequestRejected.status`.

    ProvisionerError                 provisioner_error           (base, never raised itself)
    ├── ConfigError                  config_invalid              the deployment is set up wrongly
    ├── SecretUndecryptable          secret_undecryptable        SECRETS_KEY did not encrypt it
    ├── ProvisioningError            provisioning_failed         (base: a job cannot finish)
    │   ├── ContinueLater            job_continued               a long job goes on in a fresh one
    │   ├── NameTakenByOther         repo_name_taken             the name is someone else's repo
    │   ├── SecretsRejected          secrets_invalid             GitHub would refuse them
    │   ├── SecretsIncomplete        secrets_incomplete          some secrets were not set
    │   ├── SecretsPurged            secrets_purged              values purged after retention
    │   ├── SettingsRejected         setting_rejected            GitHub refused a repository setting
    │   ├── TriesExhausted           tries_exhausted             transient failures for too long
    │   ├── SweeperGaveUp            requeued_without_progress   its job vanished again and again
    │   └── InternalError            internal_error              a bug: retried, then failed
    ├── DatabaseUnavailable          database_unavailable        PostgreSQL did not answer (retried)
    └── RequestRejected              (an API answer; ``code`` per instance, see API_ERROR_CODES)

The GitHub client (``shared.github``, a library that imports nothing of this
project) has its own tree rooted at ``GitHubError`` with the same attributes;
its codes all start with ``github_``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "API_ERROR_CODES",
    "ConfigError",
    "DatabaseUnavailable",
    "Failure",
    "InternalError",
    "ProvisionerError",
    "ProvisioningError",
    "RequestRejected",
    "SecretUndecryptable",
    "SweeperGaveUp",
    "TriesExhausted",
]


@dataclass(frozen=True)
class Failure:
    """What the worker records and acts on, whatever was raised."""

    code: str
    message: str
    transient: bool
    retry_after: float | None = None
    field: str | None = None
    spends_attempt: bool = True


class ProvisionerError(Exception):
    """Base of every failure of this project (see the module docstring for the tree)."""

    code: str = "provisioner_error"
    transient: bool = False
    spends_attempt: bool = True

    def __init__(
        self, message: str, *, field: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after = retry_after

    def failure(self) -> Failure:
        """This error as a :class:`Failure`."""
        return Failure(
            self.code,
            self.message,
            self.transient,
            self.retry_after,
            self.field,
            self.spends_attempt,
        )


class ConfigError(ProvisionerError):
    """The service is configured wrongly; the message names what to fix."""

    code = "config_invalid"


class SecretUndecryptable(ProvisionerError):
    """A stored secret cannot be decrypted with any configured key: ``SECRETS_KEYS`` lost
    the key it was encrypted with, or the data is damaged. Retrying cannot help."""

    code = "secret_undecryptable"


class DatabaseUnavailable(ProvisionerError):
    """PostgreSQL did not answer; the job tries again later."""

    code = "database_unavailable"
    transient = True


class ProvisioningError(ProvisionerError):
    """Base of failures of the provisioning steps that are not one GitHub answer."""

    code = "provisioning_failed"


class TriesExhausted(ProvisioningError):
    """Transient failures went on for longer than ``WORKER_RETRY_FOR_S`` (budget waits not
    counted); the message names the last one."""

    code = "tries_exhausted"


class SweeperGaveUp(ProvisioningError):
    """The sweeper re-submitted the project ``SWEEPER_MAX_REQUEUES`` times in a row and its
    job never got anywhere (it vanishes before it starts: a poison payload, a broken queue)."""

    code = "requeued_without_progress"

    @staticmethod
    def describe(times: int) -> str:
        """The message ops read."""
        return (
            f"the sweeper re-submitted this project {times} times in a row and its job never "
            "started; look at the workers and Redis, then retry"
        )


class InternalError(ProvisioningError):
    """An exception nobody foresaw: retried like a transient error, then failed."""

    code = "internal_error"
    transient = True


API_ERROR_CODES: Mapping[str, str] = {
    "validation_error": "a field is malformed (422)",
    "malformed_json": "the body is not JSON (400)",
    "body_too_large": "the body is larger than API_MAX_BODY_BYTES (413)",
    "invalid_parameter": "a query or path parameter is malformed or out of range (400)",
    "invalid_cursor": "the cursor is not one this API handed out (400)",
    "unsupported_media_type": "the body is not application/json (415)",
    "invalid_name": "the name gives no usable repository name (422)",
    "invalid_secret": "a secret breaks GitHub's rules (422)",
    "duplicate_secret": "a secret is given twice (422)",
    "not_authenticated": "no, unknown or revoked token (401)",
    "forbidden": "the token's role may not do this (403)",
    "not_found": "no such project, or not the caller's (404)",
    "id_in_use": "another owner's project has this id (409)",
    "idempotency_conflict": "the id or key was used with another body (409)",
    "repo_name_in_use": "another project has the repository name (409)",
    "not_retryable": "the project's status allows no retry (409)",
    "not_ready": "the project has no repository yet (409)",
    "repo_failed": "the project failed; its repository does not exist (409)",
    "github_not_configured": "no GitHub App on this API (503)",
    "rate_limited": "too many creates or token mints in a minute; see Retry-After (429)",
    "too_many_projects": "the owner has as many active projects as allowed (429)",
    "too_many_long_polls": "this API process has as many long polls as it serves (503)",
    "precondition_required": "a change needs If-Match with the project's ETag (428)",
    "precondition_failed": "the project changed since that ETag (412)",
    "not_changeable": "the project's status allows no such change (409)",
    "secret_not_found": "the project has no secret of that name (404)",
    "webhook_signature_invalid": "X-Hub-Signature-256 is missing or wrong (401)",
    "webhooks_not_configured": "GITHUB_WEBHOOK_SECRET is not set (503)",
}
"""Every ``error`` an API answer can carry besides HTTP's own (``method_not_allowed``...),
GitHub's codes (a refused repository token answers GitHub's ``github_*`` code) and
``internal_error`` (500, :class:`InternalError`'s code)."""


class RequestRejected(ProvisionerError):
    """An API request that cannot be served: ``status`` is the HTTP answer, ``code`` its error.

    ``code`` is one of :data:`API_ERROR_CODES`; ``headers`` are added to the answer
    (``Retry-After`` is added from ``retry_after`` on its own).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, field=field, retry_after=retry_after)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})

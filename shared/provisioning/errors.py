"""Provisioning failures that are not a single GitHub answer (see :mod:`shared.errors`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.errors import ProvisioningError
from shared.provisioning.secret_rules import SecretProblem
from shared.provisioning.values import SecretOutcome

__all__ = [
    "ContinueLater",
    "NameTakenByOther",
    "SecretsIncomplete",
    "SecretsPurged",
    "SecretsRejected",
    "SettingsRejected",
]


class ContinueLater(ProvisioningError):
    """The job has run long enough: it saves nothing more and goes on in a fresh job."""

    code = "job_continued"
    transient = True
    spends_attempt = False

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=0.0)


class NameTakenByOther(ProvisioningError):
    """A repository with the name exists and is not this project's."""

    code = "repo_name_taken"

    def __init__(self, full_name: str, *, claimed_by: str | None) -> None:
        whose = f"project {claimed_by}" if claimed_by else "no provisioner project"
        super().__init__(
            f"repository {full_name} already exists and belongs to {whose}; "
            "rename the project or remove that repository"
        )
        self.full_name = full_name
        self.claimed_by = claimed_by


class SecretsRejected(ProvisioningError):
    """Secrets GitHub would refuse, found before any request was made."""

    code = "secrets_invalid"

    def __init__(self, problems: Sequence[SecretProblem]) -> None:
        text = "; ".join(f"{p.name}: {p.message}" if p.name else p.message for p in problems)
        super().__init__(f"secrets refused: {text}")
        self.problems = list(problems)


class SecretsIncomplete(ProvisioningError):
    """Some secrets were not set; ``outcomes`` says, per secret, what happened."""

    code = "secrets_incomplete"

    def __init__(
        self,
        outcomes: Mapping[str, SecretOutcome],
        *,
        transient: bool,
        retry_after: float | None = None,
    ) -> None:
        missing = sorted(n for n, o in outcomes.items() if o.state != "set")
        super().__init__(f"secrets not set: {', '.join(missing)}", retry_after=retry_after)
        self.transient = transient
        self.outcomes = dict(outcomes)


class SecretsPurged(ProvisioningError):
    """Secret values were purged while the project was ``repo_failed``: they cannot be set."""

    code = "secrets_purged"

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(
            f"the values of {', '.join(names)} were purged after the project stayed "
            "repo_failed past SECRETS_RETENTION_DAYS; create the project again with them"
        )
        self.names = list(names)


class SettingsRejected(ProvisioningError):
    """GitHub refused repository settings for good; ``problems`` maps each to why.

    Ops fix the cause (create the team, grant the App the permission) and retry;
    settings already applied are not redone.
    """

    code = "setting_rejected"

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {why}" for key, why in problems.items()))
        self.problems = dict(problems)

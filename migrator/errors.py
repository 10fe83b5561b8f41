"""The project's errors: one root, one subclass per kind of failure, each with its exit status.

Every error carries a one-line message saying what is wrong and what to do; the CLI prints that
line (and a traceback only with -v).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Self

from migrator.exit_status import ExitStatus


class MigratorError(Exception):
    """Root of every error the tool reports to the user.

    Its data are the fields its __init__ declares (`message`, `hint`, and each subclass's own),
    set when it is made and never changed after: code that knows a better hint for an error it
    caught raises `with_hint`'s copy instead.
    """

    exit_status = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def with_hint(self, hint: str | None) -> Self:
        """A copy of this error (same class, same fields) with another hint, keeping its cause
        and traceback: `raise exc.with_hint("run apply again") from exc.__cause__`."""
        copied = copy.copy(self)  # BaseException pickles as cls(*args) plus its __dict__
        copied.hint = hint
        copied.__cause__ = self.__cause__
        copied.__suppress_context__ = self.__suppress_context__
        return copied.with_traceback(self.__traceback__)


class UsageError(MigratorError):
    """The command line, a flag's value or an input file is not acceptable."""

    exit_status = ExitStatus.USAGE


class InvalidDomainError(UsageError):
    """A name is not a valid DNS host name."""


class PlanFileError(UsageError):
    """A plan file is missing, truncated, corrupted, or of another format or version."""


class StateFileError(PlanFileError):
    """A plan's state file is damaged, or written for another plan or for an edited one."""


class MissingAnswerError(UsageError):
    """A question could not be asked (no terminal, or --yes) and its flag was not given."""


class NotFoundError(MigratorError):
    """Something the migration needs does not exist (zone, record, instance, subnet)."""

    exit_status = ExitStatus.USAGE


class PreflightError(MigratorError):
    """The setup cannot be migrated as it is: AWS would reject the plan or the site would break."""

    exit_status = ExitStatus.USAGE


class StalePlanError(MigratorError):
    """What is live differs from the snapshot the plan was made from."""

    exit_status = ExitStatus.USAGE


class PlanMismatchError(UsageError):
    """The plan was made for another account or region than the credentials in use."""


class DigestMismatchError(UsageError):
    """The plan file is not the plan that was approved (its sha256 differs)."""


class LockedError(MigratorError):
    """Another apply or rollback holds the plan's lock."""


class AwsError(MigratorError):
    """An AWS call failed; `code` is AWS's error code ("" when there was no answer)."""

    def __init__(self, message: str, *, hint: str | None = None, code: str = "") -> None:
        super().__init__(message, hint=hint)
        self.code = code


class CredentialsError(AwsError):
    """No AWS credentials could be found."""

    exit_status = ExitStatus.USAGE


class AccessDeniedError(AwsError):
    """The credentials lack an IAM permission the tool needs."""


class AwsNotFoundError(AwsError):
    """An AWS resource the call named does not exist (any more)."""


class AwsConflictError(AwsError):
    """AWS refused because of a conflicting or dependent resource (in use, duplicate)."""


class AwsConnectionError(AwsError):
    """The AWS endpoint could not be reached."""


class WaitTimeoutError(MigratorError):
    """A wait for AWS (certificate, load balancer, target health, DNS) ran out of time."""


class VerificationError(MigratorError):
    """A DNS or HTTPS check failed; `checks` are every check's results, failed or not."""

    def __init__(self, message: str, *, hint: str | None = None,
                 checks: Sequence[Any] = ()) -> None:
        super().__init__(message, hint=hint)
        self.checks = list(checks)


class SitesRevertedError(MigratorError):
    """In a plan for several sites, the checks of some sites failed: each was reverted alone,
    the others stay migrated; `sites` maps each reverted site to why."""

    def __init__(self, message: str, *, hint: str | None = None,
                 sites: dict[str, str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.sites = dict(sites or {})


class SharedLoadBalancerInUseError(MigratorError):
    """A rollback would delete a load balancer other plans still have sites on."""

    exit_status = ExitStatus.USAGE


class Interrupted(MigratorError):
    """The user pressed Ctrl-C."""

    exit_status = ExitStatus.INTERRUPTED

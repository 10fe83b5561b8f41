"""Turn botocore's exceptions into the project's errors, and wait with boto3's waiters.

`translate_errors` wraps every public method of the service modules, so nothing above this
package ever sees a botocore exception.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import botocore.exceptions
import botocore.waiter

from migrator.errors import (
    AccessDeniedError,
    AwsConflictError,
    AwsConnectionError,
    AwsError,
    AwsNotFoundError,
    CredentialsError,
    WaitTimeoutError,
)

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                 "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId"}
CONFLICT_SUFFIXES = ("InUse", "InUseException", "Duplicate", "DependencyViolation",
                     "AlreadyExists", "ResourceInUseException", "ConflictException")


def error_code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def translate_client_error(exc: botocore.exceptions.ClientError) -> AwsError:
    """The project's error for a ClientError, naming the operation and AWS's own message."""
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or str(exc)
    operation = exc.operation_name
    if code in ACCESS_DENIED:
        return AccessDeniedError(
            f"AWS denied {operation}: {message}",
            hint=f"grant the IAM action for {operation}; `migrator iam-policy` prints the policy",
        )
    if "NotFound" in code or code in {"NoSuchHostedZone", "ResourceNotFoundException"}:
        err: AwsError = AwsNotFoundError(f"{operation}: {message} ({code})")
    elif any(code.endswith(suffix) for suffix in CONFLICT_SUFFIXES) or "InUse" in code:
        err = AwsConflictError(f"{operation}: {message} ({code})")
    else:
        err = AwsError(f"{operation} failed: {message} ({code})")
    err.code = code  # type: ignore[attr-defined]
    return err


def translate_errors(func: F) -> F:
    """Decorator: botocore exceptions become migrator errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except botocore.exceptions.ClientError as exc:
            raise translate_client_error(exc) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise CredentialsError(
                "no AWS credentials found",
                hint="configure a profile (aws configure) or set AWS_ACCESS_KEY_ID",
            ) from exc
        except (botocore.exceptions.EndpointConnectionError,
                botocore.exceptions.ConnectTimeoutError) as exc:
            raise AwsConnectionError(
                f"cannot reach AWS: {exc}", hint="check the network, AWS_ENDPOINT_URL and region"
            ) from exc
        except botocore.exceptions.WaiterError as exc:
            raise WaitTimeoutError(f"{exc}") from exc

    return wrapper  # type: ignore[return-value]


def wrap_service(cls: type) -> type:
    """Class decorator: translate_errors on every public method."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, translate_errors(value))
    return cls


# Polling starts short and backs off: (delay in seconds, attempts) phases, then the last delay.
BACKOFF = ((1, 10), (2, 15), (5, 24), (15, 10_000))


def wait(waiter: botocore.waiter.Waiter, params: dict[str, Any], *, timeout: float,
         what: str) -> None:
    """Run a boto3 waiter with a backing-off schedule until it succeeds or timeout passes.

    botocore's waiters poll at a fixed delay (60 s for ACM, 30 s for Route53), which would make a
    user wait long after the change happened; we run the same waiter in phases of growing delay.
    A failure acceptor (e.g. certificate FAILED) ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    for delay, attempts in BACKOFF:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        attempts = max(1, min(attempts, int(remaining // delay) + 1))
        try:
            waiter.wait(**params, WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
            return
        except botocore.exceptions.WaiterError as exc:
            if "Max attempts exceeded" not in str(exc):
                raise AwsError(f"{what}: {exc}") from exc
    raise WaitTimeoutError(f"timed out after {int(timeout)} s waiting for {what}",
                           hint="run apply again to keep waiting; nothing is lost")

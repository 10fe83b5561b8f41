"""Turn botocore's exceptions into the project's errors, and wait with boto3's waiters.

`translate_errors` wraps every public method of the service modules, so nothing above this
package ever sees a botocore exception.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

import botocore.exceptions
import botocore.waiter

from migrator.aws.iam_names import iam_action
from migrator.errors import (
    AccessDeniedError,
    AwsConflictError,
    AwsConnectionError,
    AwsError,
    AwsNotFoundError,
    CredentialsError,
    WaitTimeoutError,
)
from migrator.retry import SYSTEM_CLOCK, Clock, Phases, poll

F = TypeVar("F", bound=Callable[..., Any])

# The credentials are valid but lack a permission / the credentials themselves are refused.
PERMISSION_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
ACCESS_DENIED = {*PERMISSION_DENIED, "AuthFailure", "UnrecognizedClientException",
                 "InvalidClientTokenId"}
# AWS's denial message names the action it checked, which may be a dependent one ("... is not
# authorized to perform: elasticloadbalancing:AddTags on resource ..." for CreateLoadBalancer).
DENIED_ACTION = re.compile(r"perform:\s*([A-Za-z0-9-]+:[A-Za-z0-9]+)")
CONFLICT_SUFFIXES = ("InUse", "InUseException", "Duplicate", "DependencyViolation",
                     "AlreadyExists", "ResourceInUseException", "ConflictException")


def error_code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def denied_action(exc: botocore.exceptions.ClientError, service: str | None) -> str:
    """The IAM action a denial is about: as AWS's message names it, else the one authorizing
    the operation (service prefix + operation, e.g. elasticloadbalancing:CreateLoadBalancer)."""
    found = DENIED_ACTION.search(exc.response.get("Error", {}).get("Message", "") or "")
    if found:
        return found.group(1)
    return iam_action(service, exc.operation_name) if service else exc.operation_name


def translate_client_error(exc: botocore.exceptions.ClientError,
                           service: str | None = None) -> AwsError:
    """The project's error for a ClientError, naming the operation and AWS's own message;
    `service` (botocore's name, e.g. "elbv2") lets a denial name the missing IAM action."""
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "") or str(exc)
    operation = exc.operation_name
    if code in ACCESS_DENIED:
        action = denied_action(exc, service)
        if code in PERMISSION_DENIED:
            denied = AccessDeniedError(
                f"AWS denied {action} ({operation}): {message}",
                hint=f"allow {action} for these credentials; `migrator iam-policy PLAN` prints "
                     "the whole policy migrator needs", code=code)
        else:
            denied = AccessDeniedError(
                f"AWS refused the credentials calling {action}: {message} ({code})",
                hint="check the access key, secret and session token (an expired session is a "
                     "common cause)", code=code)
        return denied
    if "NotFound" in code or code in {"NoSuchHostedZone", "ResourceNotFoundException"}:
        return AwsNotFoundError(f"{operation}: {message} ({code})", code=code)
    if any(code.endswith(suffix) for suffix in CONFLICT_SUFFIXES) or "InUse" in code:
        return AwsConflictError(f"{operation}: {message} ({code})", code=code)
    # Throttling and 5xx are retried by botocore (RETRY_CONFIG): say it gave up.
    attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    tried = f"; gave up after {attempts + 1} attempts" if attempts else ""
    return AwsError(f"{operation} failed: {message} ({code}{tried})", code=code)


def translate_errors(func: F) -> F:
    """Decorator: botocore exceptions become migrator errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except botocore.exceptions.ClientError as exc:
            raise translate_client_error(exc, _service(args)) from exc
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

    return cast(F, wrapper)


def _service(args: tuple[Any, ...]) -> str | None:
    """The botocore service name of a wrapper method's `self` (through its `_client`)."""
    client = getattr(args[0], "_client", None) if args else None
    model = getattr(getattr(client, "meta", None), "service_model", None)
    return getattr(model, "service_name", None)


def wrap_service(cls: type) -> type:
    """Class decorator: translate_errors on every public method."""
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("_"):
            setattr(cls, name, translate_errors(value))
    return cls


# Polling starts short and backs off: so many polls this far apart, then every 5 s, so a user
# never waits long after the thing happened (ACM issuance, Route53 sync, LB provisioning).
BACKOFF = Phases(((0.25, 12), (1, 12), (2, 15)), then=5.0)


def wait(waiter: botocore.waiter.Waiter, params: dict[str, Any], *, timeout: float,
         what: str, on_failure: Callable[[dict[str, Any]], AwsError] | None = None,
         clock: Clock = SYSTEM_CLOCK) -> None:
    """Poll with a boto3 waiter's acceptors on a backing-off schedule until it succeeds or
    timeout passes.

    botocore's waiters poll at a fixed delay (60 s for ACM, 30 s for Route53), which would make a
    user wait long after the change happened, and sleep by themselves; each poll here is the
    waiter run for one attempt (which never sleeps), and migrator.retry.poll does the waiting,
    on `clock`. A failure acceptor (e.g. certificate FAILED) ends the wait at once, with the
    error on_failure makes of the last response.
    """

    def settled() -> bool | None:
        try:
            waiter.wait(**params, WaiterConfig={"MaxAttempts": 1})
        except botocore.exceptions.WaiterError as exc:
            if "Max attempts exceeded" in str(exc):
                return None
            if on_failure is not None and exc.last_response and \
                    "Error" not in exc.last_response:
                # The waited-on operation's response, not a ClientError's (botocore-stubs say).
                raise on_failure(cast("dict[str, Any]", exc.last_response)) from exc
            raise AwsError(f"{what}: {exc}") from exc
        return True

    poll(settled, what=what, deadline=timeout, clock=clock, backoff=BACKOFF,
         hint="run apply again to keep waiting; nothing is lost")

"""The errors the strict world raises: moto's own exception classes, or ones built the same way,
so that the code and message on the wire are AWS's.

EC2 and ELB use moto's ``ServiceException`` subclasses (serialized by moto with the service's
protocol); ACM uses moto's ``AWSError`` (JSON ``__type``) like ``moto.acm.exceptions``; Route 53
throttling is a ``Route53ClientError`` with AWS's ``Throttling`` / ``Rate exceeded``, HTTP 400.
"""

from __future__ import annotations

from moto.acm.exceptions import AWSResourceNotFoundException
from moto.core.exceptions import AWSError
from moto.ec2.exceptions import (
    DependencyViolationError,
    EC2ClientError,
    InvalidNetworkInterfaceIdError,
    InvalidSecurityGroupNotFoundError,
)
from moto.elbv2.exceptions import (
    ActionTargetGroupNotFoundError,
    ELBClientError,
    TargetGroupNotFoundError,
)
from moto.route53.exceptions import Route53ClientError

# Codes moto's serializer finds no shape for in botocore's model (it warns, then sends them as
# given, HTTP 400 -- which is what AWS sends).
UNMODELLED_CODES = ("Throttling", "UnsupportedCertificate")

# -- EC2 -------------------------------------------------------------------------------------


def group_not_found(group: str) -> EC2ClientError:
    """``InvalidGroup.NotFound``: The security group 'sg-...' does not exist."""
    return InvalidSecurityGroupNotFoundError(group)


def interface_not_found(eni_id: str) -> EC2ClientError:
    """``InvalidNetworkInterfaceID.NotFound``."""
    return InvalidNetworkInterfaceIdError(eni_id)


def group_in_use(group_id: str) -> EC2ClientError:
    """``DependencyViolation``: resource sg-... has a dependent object."""
    return DependencyViolationError(f"resource {group_id} has a dependent object")


def multiple_interfaces(instance_id: str) -> EC2ClientError:
    """ModifyInstanceAttribute Groups on an instance with more than one network interface."""
    return EC2ClientError(
        "InvalidInstanceID",
        f"There are multiple interfaces attached to instance '{instance_id}'. "
        "Please specify an interface ID for the operation instead.",
    )


# -- ELB -------------------------------------------------------------------------------------


def target_group_not_found(arn: str | None = None) -> ELBClientError:
    """``TargetGroupNotFound`` (naming the group when a listener action refers to it)."""
    if arn:
        return ActionTargetGroupNotFoundError(arn)
    return TargetGroupNotFoundError()


def invalid_security_group(group_id: str) -> ELBClientError:
    return ELBClientError("InvalidSecurityGroup", f"Security group '{group_id}' does not exist")


def certificate_not_found(arn: str) -> ELBClientError:
    return ELBClientError("CertificateNotFound", f"Certificate '{arn}' not found")


def certificate_not_issued(arn: str, status: str) -> ELBClientError:
    return ELBClientError(
        "UnsupportedCertificate",
        f"The certificate '{arn}' is not issued (status {status}): "
        "a listener can only use an ISSUED certificate",
    )


# -- ACM -------------------------------------------------------------------------------------


class ResourceInUseException(AWSError):
    """ACM's ``ResourceInUseException`` (built like ``moto.acm.exceptions``)."""

    TYPE = "ResourceInUseException"


def certificate_in_use(arn: str, users: tuple[str, ...]) -> ResourceInUseException:
    who = ", ".join(users) if users else "another AWS resource"
    return ResourceInUseException(message=f"Certificate {arn} in use by {who}")


def acm_certificate_not_found(arn: str, account_id: str) -> AWSResourceNotFoundException:
    return AWSResourceNotFoundException(
        message=f"Certificate with arn {arn} not found in account {account_id}"
    )


# -- Route 53 --------------------------------------------------------------------------------


class Throttling(Route53ClientError):
    """Route 53's API rate limit: HTTP 400, ``Throttling``, ``Rate exceeded``."""

    code = "Throttling"
    message = "Rate exceeded"

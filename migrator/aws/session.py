"""Build the boto3 session and clients for a run, honouring standard AWS configuration.

AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL and the rest are read by boto3 itself, and
AWS_REGION here; --profile and --region override them. Clients use botocore's standard retry
mode (throttling, 5xx) rather than hand-written loops.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from migrator.aws.acm import Acm
from migrator.aws.calls import translate_errors
from migrator.aws.cloudwatch import CloudWatch
from migrator.aws.ec2 import Ec2
from migrator.aws.elbv2 import Elbv2
from migrator.aws.lightsail import Lightsail
from migrator.aws.route53 import Route53
from migrator.aws.sts import Sts
from migrator.errors import CredentialsError, UsageError

RETRY_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=10,
    read_timeout=60,
    user_agent_extra="migrator/0.1",
)
# For look-ups that only refine an error message (is this address Lightsail's?): one attempt,
# short timeouts, so a region or endpoint without the service answers at once.
ONE_SHOT_CONFIG = RETRY_CONFIG.merge(botocore.config.Config(
    retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10))


# A botocore event handler, e.g. for "before-call.*.*": handler(model=..., params=..., **kwargs).
Observer = Callable[..., Any]
# Observers of every client of every Aws in the process, as (botocore event, handler): how a test
# suite or a benchmark sees the tool's calls wherever the tool connects (see observing()).
_PROCESS_OBSERVERS: list[tuple[str, Observer]] = []


@contextlib.contextmanager
def observing(*observers: tuple[str, Observer]) -> Iterator[None]:
    """While active, every client any Aws creates also gets these (botocore event, handler)
    registrations, after its own observers."""
    _PROCESS_OBSERVERS.extend(observers)
    try:
        yield
    finally:
        for observer in observers:
            # By identity: the same handler may be registered twice by nested blocks.
            index = next(i for i in reversed(range(len(_PROCESS_OBSERVERS)))
                         if _PROCESS_OBSERVERS[i] is observer)
            del _PROCESS_OBSERVERS[index]


@dataclass
class Aws:
    """Typed service wrappers sharing one boto3 session. Each observer is registered for
    "before-call.*.*" on every client it creates (it sees every API call, retries aside)."""

    session: Any
    region: str
    observers: list[Observer] = field(default_factory=list)

    def _client(self, service: str, config: botocore.config.Config = RETRY_CONFIG) -> Any:
        client = self.session.client(service, region_name=self.region, config=config)
        events = client.meta.events
        for observer in self.observers:
            events.register("before-call.*.*", observer)
        for event, observer in list(_PROCESS_OBSERVERS):
            events.register(event, observer)
        return client

    @cached_property
    def acm(self) -> Acm:
        return Acm(self._client("acm"))

    @cached_property
    def cloudwatch(self) -> CloudWatch:
        return CloudWatch(self._client("cloudwatch"))

    @cached_property
    def ec2(self) -> Ec2:
        return Ec2(self._client("ec2"))

    @cached_property
    def elbv2(self) -> Elbv2:
        return Elbv2(self._client("elbv2"))

    @cached_property
    def route53(self) -> Route53:
        return Route53(self._client("route53"))

    @cached_property
    def lightsail(self) -> Lightsail:
        return Lightsail(self._client("lightsail", ONE_SHOT_CONFIG))

    @cached_property
    def sts(self) -> Sts:
        return Sts(self._client("sts"))


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@translate_errors
def connect(profile: str | None = None, region: str | None = None,
            observers: list[Any] | None = None) -> Aws:
    """A session for profile/region (or the standard defaults); fails clearly without a region."""
    try:
        core = botocore.session.get_session()
        # One loader for every session of the process: botocore then parses each service model
        # (EC2's is large) once, not once per session; several sites in threads gain most.
        core.register_component("data_loader", _shared_loader())
        session = boto3.Session(botocore_session=core, profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UsageError(f"AWS profile {profile!r} is not configured",
                         hint="check ~/.aws/config or pass another --profile") from exc
    # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION (the other SDKs' name) too.
    resolved = region or session.region_name or os.environ.get("AWS_REGION")
    if not resolved:
        raise UsageError("no AWS region is set",
                         hint="pass --region or set AWS_REGION / a region in your profile")
    if session.get_credentials() is None:
        raise CredentialsError("no AWS credentials found",
                               hint="configure a profile (aws configure) or set AWS_ACCESS_KEY_ID")
    return Aws(session=session, region=resolved, observers=list(observers or []))

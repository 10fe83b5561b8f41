"""Which AWS account a use case works in: the profile and region asked for, the function that
connects to them (the real one here; the wizard and tests pass their own), and what the local AWS
configuration offers for the wizard's questions (its profiles, each one's region)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migrator.aws.session import Aws


@dataclass(frozen=True)
class Account:
    """A profile and a region; None leaves the choice to the standard AWS configuration."""

    profile: str | None = None
    region: str | None = None


Connect = Callable[[Account], "Aws"]


def connect(account: Account) -> Aws:
    """A session for the account (boto3 is imported here, on the first connection only)."""
    from migrator.aws.session import connect as open_session

    return open_session(account.profile, account.region)


def already_connected(aws: Aws) -> Connect:
    """A Connect that hands out a session made earlier (the wizard connects once)."""
    return lambda _account: aws


@dataclass(frozen=True)
class LocalProfiles:
    """The profiles the AWS config and credentials files name ("default" first), and the one the
    standard variables select."""

    configured: tuple[str, ...]
    selected: str | None


def local_profiles(variables: Mapping[str, str]) -> LocalProfiles:
    from migrator.aws import profiles

    return LocalProfiles(tuple(profiles.configured_profiles()),
                         profiles.selected_profile(variables))


def configured_region(profile: str | None) -> str | None:
    """The region boto3 would use for profile, or None when nothing sets one."""
    from migrator.aws import profiles

    return profiles.configured_region(profile)

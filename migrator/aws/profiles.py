"""Local AWS configuration: the profiles and regions the user has set up (files only, no calls)."""

from __future__ import annotations

from collections.abc import Mapping

import boto3
import botocore.exceptions
import botocore.session


def configured_profiles() -> list[str]:
    """Profiles named in the AWS config and credentials files, "default" first."""
    try:
        names = set(botocore.session.Session().available_profiles)
    except (botocore.exceptions.BotoCoreError, OSError):
        return []
    return sorted(names, key=lambda n: (n != "default", n))


def selected_profile(variables: Mapping[str, str]) -> str | None:
    """The profile the standard variables select (AWS_PROFILE, then AWS_DEFAULT_PROFILE)."""
    return variables.get("AWS_PROFILE") or variables.get("AWS_DEFAULT_PROFILE") or None


def configured_region(profile: str | None) -> str | None:
    """The region boto3 would use for profile: AWS_REGION / AWS_DEFAULT_REGION, else the
    profile's `region` setting; None when nothing sets one (or the profile does not exist)."""
    try:
        return boto3.Session(profile_name=profile).region_name
    except botocore.exceptions.BotoCoreError:
        return None


def known_regions() -> list[str]:
    """The regions botocore's bundled endpoint data lists for Elastic Load Balancing."""
    return list(botocore.session.Session().get_available_regions("elbv2"))

"""Domain-name validation and the names of the AWS resources a plan creates.

Load balancer and target group names must be at most 32 characters of letters, digits and
hyphens, not beginning or ending with a hyphen (and a load balancer's may not begin with
"internal-"); moto accepts longer ones, AWS does not. Security group names are at most 255
characters.
"""

from __future__ import annotations

import re

from migrator.errors import InvalidDomainError

ELB_NAME_MAX = 32
SECURITY_GROUP_NAME_MAX = 255
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(name: str) -> str:
    """The lower-case ASCII (IDNA) form of a host name, without the trailing dot; or an error."""
    raw = name.strip().rstrip(".")
    if not raw:
        raise InvalidDomainError("the domain name is empty", hint="pass --domain www.example.com")
    try:
        ascii_name = raw.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidDomainError(f"{name!r} is not a valid domain name ({exc})",
                                 hint="use a host name like www.example.com") from exc
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise InvalidDomainError(f"{name!r} is not a valid domain name",
                                 hint="use a host name like www.example.com")
    if labels[-1].isdigit():
        raise InvalidDomainError(f"{name!r} is an IP address, not a domain name",
                                 hint="pass the site's DNS name")
    return ascii_name


def elb_name(domain: str, suffix: str, kind: str = "") -> str:
    """A valid ELB name: the domain's labels, an optional kind and a unique suffix, ≤ 32 chars."""
    tail = "-".join(p for p in (kind, suffix) if p)
    room = ELB_NAME_MAX - len(tail) - 1
    base = re.sub(r"[^a-z0-9-]", "-", domain.lower().replace(".", "-"))
    base = re.sub(r"-{2,}", "-", base)[:room].strip("-") or "site"
    if base.startswith("internal-"):
        base = "site-" + base[len("internal-"):]
        base = base[:room].strip("-")
    name = f"{base}-{tail}"
    assert valid_elb_name(name), name
    return name


def valid_elb_name(name: str) -> bool:
    return (0 < len(name) <= ELB_NAME_MAX and re.fullmatch(r"[A-Za-z0-9-]+", name) is not None
            and not name.startswith("-") and not name.endswith("-")
            and not name.lower().startswith("internal-"))


def lockdown_copy_name(original: str, suffix: str) -> str:
    """The name of the lockdown's copy of security group `original`: "<original>-<suffix>",
    the original's name shortened to fit, never the suffix that makes the two names differ."""
    return f"{original[:SECURITY_GROUP_NAME_MAX - len(suffix) - 1]}-{suffix}"

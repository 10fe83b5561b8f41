"""A small, complete snapshot of a www site on one instance, for tests that need one."""

from __future__ import annotations

from dataclasses import replace

from migrator.core.snapshot import (
    Instance,
    NetworkInterface,
    RecordSet,
    SecurityGroup,
    Snapshot,
    Subnet,
    Zone,
)

TAGS = [{"Key": "migrator:plan", "Value": "mig-0a1b2c3d"}]
PUBLIC_WEB = (
    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]},
    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
)


def snapshot(**changes: object) -> Snapshot:
    base = Snapshot(
        account="123456789012", region="ap-northeast-1", domain="www.example.com",
        names=("www.example.com",),
        zone=Zone("Z1", "example.com.", ("ns-1.awsdns-1.org",)),
        records=(RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),),
        instance=Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                          "127.0.0.10", "10.0.0.5", ("sg-web",),
                          interfaces=(NetworkInterface("eni-1", 0, ("sg-web",), ("127.0.0.10",)),),
                          web_interface_id="eni-1"),
        security_groups=(SecurityGroup("sg-web", "web-server", PUBLIC_WEB),),
        subnets=(Subnet("subnet-a", "ap-northeast-1a", "10.0.0.0/24", True),
                 Subnet("subnet-p", "ap-northeast-1a", "10.0.9.0/24", False),
                 Subnet("subnet-c", "ap-northeast-1c", "10.0.1.0/24", True),
                 Subnet("subnet-c2", "ap-northeast-1c", "10.0.2.0/24", True)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]

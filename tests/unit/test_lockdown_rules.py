"""Taking web access from anywhere out of security group rules, keeping everything else."""

from __future__ import annotations

import pytest

from migrator.core.lockdown import has_public_web, without_public_web
from migrator.errors import PreflightError

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]}


def test_public_web_rules_go_other_rules_stay() -> None:
    rules = [SSH,
             {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
              "IpRanges": [{"CidrIp": "0.0.0.0/0"}, {"CidrIp": "192.0.2.0/24"}],
              "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
             {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert has_public_web(rules)
    assert without_public_web(rules, "sg-1") == [
        SSH,
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.0.2.0/24"}]},
    ]


def test_a_wide_public_range_keeps_its_other_ports() -> None:
    rules = [{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert without_public_web(rules, "sg-1") == [
        {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        for low, high in ((0, 79), (81, 442), (444, 65535))]


def test_other_protocols_and_private_sources_are_not_public_web() -> None:
    rules = [SSH, {"IpProtocol": "udp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
             {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    assert not has_public_web(rules)
    assert without_public_web(rules, "sg-1") == rules


def test_all_traffic_from_anywhere_is_refused_with_a_reason() -> None:
    rules = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    with pytest.raises(PreflightError, match="admits all traffic from anywhere"):
        without_public_web(rules, "sg-1")

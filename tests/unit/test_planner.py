"""The planner turns a snapshot into a whole plan; these tests compare whole plans."""

from __future__ import annotations

import pytest

from migrator.core.plan import Inverse, PlanOptions, Step, ref
from migrator.core.planner import build_plan
from migrator.core.snapshot import (
    Certificate,
    Instance,
    RecordSet,
    SecurityGroup,
    Subnet,
)
from migrator.errors import PreflightError
from tests.support.snapshots import PUBLIC_WEB, TAGS, snapshot


def test_whole_plan_for_a_www_subdomain() -> None:
    plan = build_plan(snapshot(), PlanOptions(health_check_path="/health", lockdown=False),
                      plan_id="mig-0a1b2c3d", created_at="2026-11-24T00:00:00Z")
    target = [{"Id": "i-1", "Port": 443}]
    alias = {"DNSName": ref("load_balancer.dns_name"), "HostedZoneId": ref("load_balancer.zone_id"),
             "EvaluateTargetHealth": True}
    original = [{"Name": "www.example.com.", "Type": "A", "TTL": 300,
                 "ResourceRecords": [{"Value": "127.0.0.10"}]}]
    everywhere = [
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": f"{label} from the internet"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": f"{label} from the internet"}]}
        for port, label in ((443, "HTTPS"), (80, "HTTP, redirected to HTTPS"))]
    from_lb = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [
        {"GroupId": ref("lb_security_group.group_id"), "Description": "from the load balancer"}]}]
    assert list(plan.steps) == [
        Step("lb_security_group", "ec2.create_security_group",
             "Create security group migrator-alb-www.example.com-0a1b2c3d for the load balancer",
             {"GroupName": "migrator-alb-www.example.com-0a1b2c3d", "VpcId": "vpc-1",
              "Description": "Load balancer of www.example.com (migrator mig-0a1b2c3d)",
              "TagSpecifications": [{"ResourceType": "security-group", "Tags": TAGS}]},
             Inverse("ec2.delete_security_group",
                     {"GroupId": ref("lb_security_group.group_id"),
                      "GroupName": "migrator-alb-www.example.com-0a1b2c3d", "VpcId": "vpc-1"},
                     "Delete the load balancer's security group")),
        Step("certificate", "acm.request_certificate",
             "Request an ACM certificate for www.example.com (DNS validation)",
             {"DomainName": "www.example.com", "ValidationMethod": "DNS",
              "KeyAlgorithm": "RSA_2048", "IdempotencyToken": "mig0a1b2c3d",
              "Options": {"CertificateTransparencyLoggingPreference": "ENABLED"}, "Tags": TAGS},
             Inverse("acm.delete_certificate", {"CertificateArn": ref("certificate.arn"),
                                                "DomainName": "www.example.com"},
                     "Delete the certificate this plan requested")),
        Step("target_group", "elbv2.create_target_group",
             "Create target group www-example-com-tg-0a1b2c3d (HTTPS:443, health check HTTPS "
             "/health expecting 200-399)",
             {"Name": "www-example-com-tg-0a1b2c3d", "Protocol": "HTTPS",
              "ProtocolVersion": "HTTP1", "Port": 443, "VpcId": "vpc-1",
              "TargetType": "instance", "HealthCheckProtocol": "HTTPS",
              "HealthCheckPort": "traffic-port", "HealthCheckPath": "/health",
              "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5,
              "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
              "Matcher": {"HttpCode": "200-399"}, "Tags": TAGS},
             Inverse("elbv2.delete_target_group",
                     {"TargetGroupArn": ref("target_group.arn"),
                      "Name": "www-example-com-tg-0a1b2c3d"}, "Delete the target group")),
        Step("origin_security_group", "ec2.create_security_group",
             "Create security group migrator-origin-www.example.com-0a1b2c3d for the instance",
             {"GroupName": "migrator-origin-www.example.com-0a1b2c3d", "VpcId": "vpc-1",
              "Description": "Admits the load balancer of www.example.com (migrator mig-0a1b2c3d)",
              "TagSpecifications": [{"ResourceType": "security-group", "Tags": TAGS}]},
             Inverse("ec2.delete_security_group",
                     {"GroupId": ref("origin_security_group.group_id"),
                      "GroupName": "migrator-origin-www.example.com-0a1b2c3d", "VpcId": "vpc-1"},
                     "Delete the instance's new security group")),
        Step("lb_ingress", "ec2.authorize_ingress",
             "Admit HTTPS (443) and HTTP (80) from anywhere (IPv4 and IPv6) to the load balancer",
             {"GroupId": ref("lb_security_group.group_id"), "IpPermissions": everywhere},
             Inverse("ec2.revoke_ingress", {"GroupId": ref("lb_security_group.group_id"),
                                            "IpPermissions": everywhere}, "Remove those rules")),
        Step("load_balancer", "elbv2.create_load_balancer",
             "Create internet-facing application load balancer www-example-com-0a1b2c3d in "
             "ap-northeast-1a, ap-northeast-1c",
             {"Name": "www-example-com-0a1b2c3d", "Type": "application",
              "Scheme": "internet-facing", "IpAddressType": "ipv4",
              "Subnets": ["subnet-a", "subnet-c"],
              "SecurityGroups": [ref("lb_security_group.group_id")], "Tags": TAGS},
             Inverse("elbv2.delete_load_balancer",
                     {"LoadBalancerArn": ref("load_balancer.arn"),
                      "Name": "www-example-com-0a1b2c3d"},
                     "Delete the load balancer (after DNS no longer points at it)")),
        Step("validation_records", "route53.create_validation_records",
             "Create the certificate's DNS validation CNAMEs in example.com.",
             {"HostedZoneId": "Z1", "CertificateArn": ref("certificate.arn")},
             Inverse("route53.delete_validation_records",
                     {"HostedZoneId": "Z1", "CertificateArn": ref("certificate.arn"),
                      "Created": ref("validation_records.created")},
                     "Delete the validation CNAMEs this plan created, unless another "
                     "certificate uses them")),
        Step("origin_ingress", "ec2.authorize_ingress",
             "Admit HTTPS (443) from the load balancer's group to the instance",
             {"GroupId": ref("origin_security_group.group_id"), "IpPermissions": from_lb},
             Inverse("ec2.revoke_ingress", {"GroupId": ref("origin_security_group.group_id"),
                                            "IpPermissions": from_lb}, "Remove that rule")),
        Step("attach_origin_group", "ec2.set_interface_groups",
             "Attach the new group to eni-1 (eth0) of instance i-1 beside its groups sg-web",
             {"InstanceId": "i-1", "NetworkInterfaceId": "eni-1",
              "Groups": ["sg-web", ref("origin_security_group.group_id")]},
             Inverse("ec2.set_interface_groups",
                     {"InstanceId": "i-1", "NetworkInterfaceId": "eni-1", "Groups": ["sg-web"]},
                     "Give eni-1 (eth0) of instance i-1 back exactly sg-web")),
        Step("register_instance", "elbv2.register_targets", "Register instance i-1 on port 443",
             {"TargetGroupArn": ref("target_group.arn"), "Targets": target},
             Inverse("elbv2.deregister_targets",
                     {"TargetGroupArn": ref("target_group.arn"), "Targets": target},
                     "Deregister the instance")),
        Step("load_balancer_active", "elbv2.wait_load_balancer_active",
             "Wait for the load balancer to be active",
             {"LoadBalancerArn": ref("load_balancer.arn")}),
        Step("load_balancer_attributes", "elbv2.set_load_balancer_attributes",
             "Set the load balancer's idle timeout to 60 s (the origin was not seen closing "
             "idle connections)",
             {"LoadBalancerArn": ref("load_balancer.arn"),
              "Attributes": {"idle_timeout.timeout_seconds": "60"}}),
        Step("http_listener", "elbv2.create_listener",
             "Add the HTTP:80 listener answering 301 to HTTPS",
             {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTP", "Port": 80,
              "DefaultActions": [{"Type": "redirect", "RedirectConfig": {
                  "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}",
                  "Query": "#{query}", "StatusCode": "HTTP_301"}}], "Tags": TAGS},
             Inverse("elbv2.delete_listener",
                     {"ListenerArn": ref("http_listener.arn"),
                      "LoadBalancerArn": ref("load_balancer.arn"), "Port": 80},
                     "Delete the HTTP listener")),
        Step("warmup_listener", "elbv2.create_listener",
             "Start health checks early: a listener on port 8443, closed to the internet by the "
             "security group, forwarding to the target group",
             {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTP", "Port": 8443,
              "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("target_group.arn")}],
              "Tags": TAGS},
             Inverse("elbv2.delete_listener",
                     {"ListenerArn": ref("warmup_listener.arn"),
                      "LoadBalancerArn": ref("load_balancer.arn"), "Port": 8443},
                     "Delete the port 8443 listener")),
        Step("target_healthy", "elbv2.wait_target_healthy",
             "Wait for instance i-1 to pass the health check",
             {"TargetGroupArn": ref("target_group.arn"), "Targets": target,
              "TimeoutSeconds": 900}),
        Step("certificate_issued", "acm.wait_certificate_issued",
             "Wait until ACM has validated and ISSUED the certificate",
             {"CertificateArn": ref("certificate.arn"), "TimeoutSeconds": 14400}),
        Step("https_listener", "elbv2.create_listener",
             "Add the HTTPS:443 listener (ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09) forwarding to "
             "the target group",
             {"LoadBalancerArn": ref("load_balancer.arn"), "Protocol": "HTTPS", "Port": 443,
              "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
              "Certificates": [{"CertificateArn": ref("certificate.arn")}],
              "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("target_group.arn")}],
              "Tags": TAGS},
             Inverse("elbv2.delete_listener",
                     {"ListenerArn": ref("https_listener.arn"),
                      "LoadBalancerArn": ref("load_balancer.arn"), "Port": 443},
                     "Delete the HTTPS listener")),
        Step("warmup_listener_removed", "elbv2.delete_listener",
             "Delete the port 8443 listener: the HTTPS listener keeps the health checks going",
             {"ListenerArn": ref("warmup_listener.arn"),
              "LoadBalancerArn": ref("load_balancer.arn"), "Port": 8443}),
        Step("verify_load_balancer", "verify.load_balancer",
             "Check HTTPS through the load balancer's own address before touching DNS",
             {"DNSName": ref("load_balancer.dns_name"), "Names": ["www.example.com"],
              "HealthCheckPath": "/health", "Matcher": "200-399"}),
        Step("switch_dns", "route53.switch_to_alias",
             "Point www.example.com A at the load balancer (alias, one change batch; TTL was "
             "300 s)",
             {"HostedZoneId": "Z1", "Originals": original, "Alias": alias},
             Inverse("route53.restore_records",
                     {"HostedZoneId": "Z1", "Originals": original, "Alias": alias},
                     "Restore the original records (values and TTL), wait for them to be in "
                     "sync and for the alias TTL to pass")),
        Step("verify_site", "verify.site", "Check DNS and HTTPS of the site through its name",
             {"Names": ["www.example.com"], "CertificateNames": ["www.example.com"],
              "DNSName": ref("load_balancer.dns_name"),
              "ZoneNameservers": ["ns-1.awsdns-1.org"], "OriginAddress": "127.0.0.10",
              "HealthCheckPath": "/health", "Matcher": "200-399"}),
    ]


def test_apex_with_www_san_switches_both_and_covers_both() -> None:
    snap = snapshot(
        domain="example.com", names=("example.com", "www.example.com"),
        records=(RecordSet("example.com.", "A", 600, ("127.0.0.10",)),
                 RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                 RecordSet("example.com.", "MX", 300, ("10 mail.example.net.",))))
    plan = build_plan(snap, PlanOptions(sans=("www.example.com",)), plan_id="mig-0a1b2c3d")
    steps = {s.id: s for s in plan.steps}
    assert steps["certificate"].params["SubjectAlternativeNames"] == ["example.com",
                                                                      "www.example.com"]
    assert [o["Name"] for o in steps["switch_dns"].params["Originals"]] == [
        "example.com.", "www.example.com."]
    assert [o["TTL"] for o in steps["switch_dns"].params["Originals"]] == [600, 300]
    assert steps["load_balancer"].params["Name"] == "example-com-0a1b2c3d"
    assert steps["verify_site"].params["Names"] == ["example.com", "www.example.com"]


def test_a_san_without_a_record_is_only_on_the_certificate() -> None:
    snap = snapshot(names=("www.example.com", "static.example.com"))
    plan = build_plan(snap, PlanOptions(), plan_id="mig-0a1b2c3d")
    steps = {s.id: s for s in plan.steps}
    assert steps["certificate"].params["SubjectAlternativeNames"] == [
        "www.example.com", "static.example.com"]
    assert [o["Name"] for o in steps["switch_dns"].params["Originals"]] == ["www.example.com."]


def test_an_issued_certificate_covering_every_name_is_reused_never_deleted() -> None:
    cert = Certificate("arn:aws:acm:ap-northeast-1:1:certificate/x", "*.example.com",
                       ("*.example.com",), "ISSUED")
    plan = build_plan(snapshot(certificates=(cert,)), PlanOptions(), plan_id="mig-0a1b2c3d")
    ids = [s.id for s in plan.steps]
    assert "certificate" not in ids and "validation_records" not in ids
    assert "certificate_issued" not in ids
    https = next(s for s in plan.steps if s.id == "https_listener")
    assert https.params["Certificates"] == [{"CertificateArn": cert.arn}]


@pytest.mark.parametrize(("changes", "message"), [
    ({"subnets": (Subnet("subnet-a", "ap-northeast-1a", "10.0.0.0/24", True),)},
     "at least two Availability Zones"),
    ({"subnets": (Subnet("subnet-c", "ap-northeast-1c", "10.0.1.0/24", True),
                  Subnet("subnet-d", "ap-northeast-1d", "10.0.2.0/24", True))},
     "no public subnet in ap-northeast-1a"),
    ({"records": (RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                  RecordSet("www.example.com.", "AAAA", 300, ("::1",)))}, "AAAA"),
    ({"instance": Instance("i-1", "running", "", "vpc-1", "subnet-a", "ap-northeast-1a",
                           "127.0.0.10", "10.0.0.5", ("a", "b", "c", "d", "e"))},
     "already has 5 security groups"),
    ({"names": ("www.example.com", "api.example.com"),
      "records": (RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                  RecordSet("api.example.com.", "A", 300, ("127.0.0.77",)))},
     "does not point at the instance"),
])
def test_refuses_what_aws_would_reject(changes: dict, message: str) -> None:
    with pytest.raises(PreflightError, match=message):
        build_plan(snapshot(**changes), PlanOptions())


def test_resource_names_respect_aws_limits_for_long_domains() -> None:
    domain = "a-very-long-subdomain-name.of-a-long-company-name.example.com"
    snap = snapshot(domain=domain, names=(domain,),
                    records=(RecordSet(domain + ".", "A", 300, ("127.0.0.10",)),))
    plan = build_plan(snap, PlanOptions(), plan_id="mig-0a1b2c3d")
    steps = {s.id: s for s in plan.steps}
    for name in (steps["load_balancer"].params["Name"], steps["target_group"].params["Name"]):
        assert len(name) <= 32 and not name.startswith("-") and not name.endswith("-")
        assert name.endswith("0a1b2c3d")


def test_lockdown_steps_close_the_public_groups_after_the_old_ttl() -> None:
    snap = snapshot(
        instance=Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                          "127.0.0.10", "10.0.0.5", ("sg-web", "sg-mon")),
        security_groups=(SecurityGroup("sg-web", "web-server", PUBLIC_WEB),
                         SecurityGroup("sg-mon", "monitoring", PUBLIC_WEB[:1])))
    plan = build_plan(snap, PlanOptions(), plan_id="mig-0a1b2c3d")
    assert list(plan.steps[-3:]) == [
        Step("lockdown_ready", "dns.wait_old_ttl",
             "Wait until the old answer has left every resolver cache (switch time + 300 s)",
             {"SwitchedAt": ref("switch_dns.switched_at"), "TTL": ref("switch_dns.old_ttl")}),
        Step("lockdown_groups", "ec2.copy_groups_without_public_web",
             "Copy sg-web without the rules admitting 80/443 from anywhere",
             {"GroupIds": ["sg-web"], "VpcId": "vpc-1", "NameSuffix": "locked-0a1b2c3d",
              "Tags": TAGS},
             Inverse("ec2.delete_group_copies",
                     {"Copies": ref("lockdown_groups.copies"), "GroupIds": ["sg-web"],
                      "VpcId": "vpc-1", "NameSuffix": "locked-0a1b2c3d"}, "Delete the copies")),
        Step("lockdown_attach", "ec2.set_interface_groups",
             "Lock the instance down: the copies replace sg-web on instance i-1, so web traffic "
             "comes only through the load balancer",
             {"InstanceId": "i-1", "Groups": [ref("lockdown_groups.sg-web"), "sg-mon",
                                              ref("origin_security_group.group_id")]},
             Inverse("ec2.set_interface_groups",
                     {"InstanceId": "i-1", "Groups": ["sg-web", "sg-mon",
                                                      ref("origin_security_group.group_id")]},
                     "Give instance i-1 its original groups back")),
    ]


def test_no_lockdown_steps_when_nothing_is_public() -> None:
    snap = snapshot(security_groups=(SecurityGroup("sg-web", "web-server", PUBLIC_WEB[:1]),))
    assert not [s for s in build_plan(snap, PlanOptions()).steps if s.id.startswith("lockdown")]


def test_an_aaaa_record_gets_a_dualstack_load_balancer_when_the_subnets_have_ipv6() -> None:
    v6 = "2001:db8::10"
    snap = snapshot(
        records=(RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                 RecordSet("www.example.com.", "AAAA", 600, (v6,))),
        instance=Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                          "127.0.0.10", "10.0.0.5", ("sg-web",), (v6,)),
        subnets=(Subnet("subnet-a", "ap-northeast-1a", "10.0.0.0/24", True, True),
                 Subnet("subnet-c", "ap-northeast-1c", "10.0.1.0/24", True, True)))
    steps = {s.id: s for s in build_plan(snap, PlanOptions(), plan_id="mig-0a1b2c3d").steps}
    assert steps["load_balancer"].params["IpAddressType"] == "dualstack"
    assert [(o["Type"], o["TTL"]) for o in steps["switch_dns"].params["Originals"]] == [
        ("A", 300), ("AAAA", 600)]
    assert steps["switch_dns"].inverse.params["Originals"] == steps["switch_dns"].params[
        "Originals"]
    assert "TTL was 600 s" in steps["switch_dns"].description
    assert steps["verify_site"].params["Names"] == ["www.example.com"]
    assert "600 s" in steps["lockdown_ready"].description


def test_an_aaaa_record_elsewhere_is_refused() -> None:
    snap = snapshot(
        records=(RecordSet("www.example.com.", "A", 300, ("127.0.0.10",)),
                 RecordSet("www.example.com.", "AAAA", 600, ("2001:db8::99",))),
        instance=Instance("i-1", "running", "web-1", "vpc-1", "subnet-a", "ap-northeast-1a",
                          "127.0.0.10", "10.0.0.5", ("sg-web",), ("2001:db8::10",)),
        subnets=(Subnet("subnet-a", "ap-northeast-1a", "10.0.0.0/24", True, True),
                 Subnet("subnet-c", "ap-northeast-1c", "10.0.1.0/24", True, True)))
    with pytest.raises(PreflightError, match="AAAA record does not point at the instance"):
        build_plan(snap, PlanOptions())

"""ELBv2: target groups, load balancers, listeners, target health and their waiters."""

from __future__ import annotations

from typing import Any

from migrator.aws.calls import error_code, wait, wrap_service


@wrap_service
class Elbv2:
    """Typed wrapper over an Elastic Load Balancing v2 client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def load_balancer_named(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._client.describe_load_balancers(Names=[name])["LoadBalancers"]
        except self._client.exceptions.LoadBalancerNotFoundException:
            return None
        return found[0] if found else None

    def load_balancer(self, arn: str) -> dict[str, Any] | None:
        try:
            found = self._client.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
        except self._client.exceptions.LoadBalancerNotFoundException:
            return None
        return found[0] if found else None

    def target_group_named(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._client.describe_target_groups(Names=[name])["TargetGroups"]
        except self._client.exceptions.TargetGroupNotFoundException:
            return None
        return found[0] if found else None

    def tags(self, arns: list[str]) -> dict[str, dict[str, str]]:
        described = self._client.describe_tags(ResourceArns=arns)["TagDescriptions"]
        return {d["ResourceArn"]: {t["Key"]: t.get("Value", "") for t in d.get("Tags", [])}
                for d in described}

    def create_target_group(self, **params: Any) -> dict[str, Any]:
        return self._client.create_target_group(**params)["TargetGroups"][0]

    def delete_target_group(self, arn: str) -> None:
        self._client.delete_target_group(TargetGroupArn=arn)

    def register_targets(self, arn: str, targets: list[dict[str, Any]]) -> None:
        self._client.register_targets(TargetGroupArn=arn, Targets=targets)

    def deregister_targets(self, arn: str, targets: list[dict[str, Any]]) -> None:
        self._client.deregister_targets(TargetGroupArn=arn, Targets=targets)

    def target_health(self, arn: str) -> list[dict[str, Any]]:
        return self._client.describe_target_health(TargetGroupArn=arn)[
            "TargetHealthDescriptions"]

    def create_load_balancer(self, **params: Any) -> dict[str, Any]:
        return self._client.create_load_balancer(**params)["LoadBalancers"][0]

    def delete_load_balancer(self, arn: str, *, timeout: float) -> None:
        self._client.delete_load_balancer(LoadBalancerArn=arn)
        wait(self._client.get_waiter("load_balancers_deleted"), {"LoadBalancerArns": [arn]},
             timeout=timeout, what=f"load balancer {arn} to be deleted")

    def attributes(self, arn: str) -> dict[str, str]:
        found = self._client.describe_load_balancer_attributes(LoadBalancerArn=arn)
        return {a["Key"]: a.get("Value", "") for a in found.get("Attributes", [])}

    def set_attributes(self, arn: str, attributes: dict[str, str]) -> None:
        self._client.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in attributes.items()])

    def wait_available(self, arn: str, *, timeout: float) -> None:
        wait(self._client.get_waiter("load_balancer_available"), {"LoadBalancerArns": [arn]},
             timeout=timeout, what="the load balancer to be active")

    def wait_in_service(self, arn: str, targets: list[dict[str, Any]], *,
                        timeout: float) -> None:
        wait(self._client.get_waiter("target_in_service"),
             {"TargetGroupArn": arn, "Targets": targets},
             timeout=timeout, what="the instance to pass the target group's health check")

    def listeners(self, load_balancer_arn: str) -> list[dict[str, Any]]:
        try:
            paginator = self._client.get_paginator("describe_listeners")
            found: list[dict[str, Any]] = []
            for page in paginator.paginate(LoadBalancerArn=load_balancer_arn):
                found.extend(page["Listeners"])
            return found
        except self._client.exceptions.LoadBalancerNotFoundException:
            return []

    def create_listener(self, **params: Any) -> dict[str, Any]:
        return self._client.create_listener(**params)["Listeners"][0]

    def delete_listener(self, arn: str) -> None:
        try:
            self._client.delete_listener(ListenerArn=arn)
        except self._client.exceptions.ClientError as exc:
            if error_code(exc) != "ListenerNotFound":
                raise

    # --- what a load balancer shared by several sites needs -----------------------------------

    def _pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self._client.get_paginator(operation).paginate(**params):
            found.extend(page.get(key, []))
        return found

    def load_balancers(self) -> list[dict[str, Any]]:
        """Every load balancer of the region (ALB, NLB, GWLB)."""
        return self._pages("describe_load_balancers", "LoadBalancers")

    def rules(self, listener_arn: str) -> list[dict[str, Any]]:
        """A listener's rules, its default rule included (Priority "default")."""
        return self._pages("describe_rules", "Rules", ListenerArn=listener_arn)

    def listener_certificates(self, listener_arn: str) -> list[dict[str, Any]]:
        """A listener's certificates: the default one (IsDefault) and those added by SNI."""
        return self._pages("describe_listener_certificates", "Certificates",
                           ListenerArn=listener_arn)

    def account_limits(self) -> dict[str, int]:
        """The account's ELB quotas by name ("certificates-per-application-load-balancer")."""
        limits = self._pages("describe_account_limits", "Limits")
        return {limit["Name"]: int(limit["Max"]) for limit in limits
                if str(limit.get("Max", "")).isdigit()}

    def add_listener_certificates(self, listener_arn: str, arns: list[str]) -> None:
        self._client.add_listener_certificates(
            ListenerArn=listener_arn, Certificates=[{"CertificateArn": a} for a in arns])

    def remove_listener_certificates(self, listener_arn: str, arns: list[str]) -> None:
        self._client.remove_listener_certificates(
            ListenerArn=listener_arn, Certificates=[{"CertificateArn": a} for a in arns])

    def create_rule(self, **params: Any) -> dict[str, Any]:
        return self._client.create_rule(**params)["Rules"][0]

    def delete_rule(self, arn: str) -> None:
        self._client.delete_rule(RuleArn=arn)

    def set_subnets(self, load_balancer_arn: str, subnets: list[str]) -> None:
        self._client.set_subnets(LoadBalancerArn=load_balancer_arn, Subnets=subnets)

    def add_tags(self, arns: list[str], tags: dict[str, str]) -> None:
        self._client.add_tags(ResourceArns=arns,
                              Tags=[{"Key": k, "Value": v} for k, v in tags.items()])

    def remove_tags(self, arns: list[str], keys: list[str]) -> None:
        self._client.remove_tags(ResourceArns=arns, TagKeys=keys)

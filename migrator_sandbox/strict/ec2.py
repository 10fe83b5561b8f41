"""EC2 as AWS behaves where moto does not.

* Eventual consistency: a security group (or network interface) created less than
  ``ec2_visibility`` ago is unknown to Authorize/RevokeSecurityGroupIngress/Egress (as the group
  and as a rule's source group), ModifyInstanceAttribute Groups, ModifyNetworkInterfaceAttribute,
  AttachNetworkInterface and DeleteSecurityGroup -> ``InvalidGroup.NotFound`` /
  ``InvalidNetworkInterfaceID.NotFound``;
  with ``describe_lag`` DescribeSecurityGroups does not see it either (by id or name: NotFound;
  listed or filtered: left out).
* Security groups live on network interfaces (``moto_fixes`` makes an instance's groups the
  union of its interfaces'; StrictAWS installs it): ModifyInstanceAttribute Groups is refused
  on an instance with more than one interface (``InvalidInstanceID``) and changes the
  interface's groups on a one-interface instance.
* DeleteSecurityGroup -> ``DependencyViolation`` while a load balancer uses the group, for
  ``eni_linger`` after that load balancer let go of it, while another group's rule refers to it,
  or while a network interface has it.
* An Elastic IP associated with an instance's (secondary) network interface names that instance
  (``InstanceId`` in DescribeAddresses, the ``instance-id`` filter); moto names it only when the
  association was made by instance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.ec2.models.elastic_ip_addresses import ElasticAddress
from moto.ec2.models.elastic_network_interfaces import NetworkInterfaceBackend
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.elbv2.models import elbv2_backends

from ..backends import existing_backend
from . import errors
from .config import StrictConfig
from .ledger import Ledger
from .patching import Patcher, arguments

SG, ENI = "sg", "eni"


def _address_instance(address: Any) -> Any | None:
    """The instance an Elastic IP reaches: its own association, or its interface's instance."""
    if address.instance is not None:
        return address.instance
    eni = address.eni
    return getattr(eni, "instance", None) if eni is not None else None


class EC2Rules:
    """Installs the EC2 rules on moto's EC2 backend and models."""

    def __init__(self, ledger: Ledger, config: StrictConfig):
        self.ledger = ledger
        self.config = config

    # -- checks -------------------------------------------------------------------------------

    def group_fresh(self, group_id: str) -> bool:
        return self.ledger.is_fresh(SG, group_id, self.config.ec2_visibility)

    def interface_fresh(self, eni_id: str) -> bool:
        return self.ledger.is_fresh(ENI, eni_id, self.config.ec2_visibility)

    def require_groups(self, backend: Any, group_ids: list[str]) -> None:
        """Every group exists and is visible already."""
        for group_id in group_ids:
            if backend.get_security_group_from_id(group_id) is None or self.group_fresh(group_id):
                raise errors.group_not_found(group_id)

    def _check_rule_call(self, original: Callable[..., Any], args: Any, kwargs: Any) -> None:
        call = arguments(original, args, kwargs)
        backend = call["self"]
        name_or_id = call["group_name_or_id"]
        group = backend.get_security_group_by_name_or_id(name_or_id, call.get("vpc_id"))
        if group is not None and self.group_fresh(group.id):
            raise errors.group_not_found(name_or_id)
        for source in call.get("source_groups") or []:
            source_id = source.get("GroupId")
            if source_id and self.group_fresh(source_id):
                raise errors.group_not_found(source_id)

    def dependents(self, backend: Any, group_id: str) -> bool:
        """Does anything still depend on the group (what DeleteSecurityGroup refuses)?"""
        elb = existing_backend(elbv2_backends, backend.account_id, backend.region_name)
        if elb is not None:
            for lb in list(elb.load_balancers.values()):
                if group_id in list(lb.security_groups or []):
                    return True
        with self.ledger.lock:
            linger = self.ledger.group_linger.get(group_id)
            if linger is not None and self.ledger.now() < linger[0]:
                return True
        for eni in list(backend.enis.values()):
            if any(g is not None and g.id == group_id for g in list(eni._group_set)):
                return True
        for groups in list(backend.groups.values()):
            for other in list(groups.values()):
                if other.id == group_id:
                    continue
                for rule in list(other.ingress_rules) + list(other.egress_rules):
                    source = getattr(rule, "source_group", None) or {}
                    if source.get("GroupId") == group_id:
                        return True
        return False

    # -- install ------------------------------------------------------------------------------

    def install(self, patcher: Patcher) -> None:
        rules = self
        ledger = self.ledger

        def record(kind: str, pick: Callable[[Any], str | None]) -> Callable[..., Any]:
            def make(original: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(original)
                def created(*args: Any, **kwargs: Any) -> Any:
                    result = original(*args, **kwargs)
                    resource_id = pick(result)
                    if resource_id:
                        ledger.record_created(kind, resource_id)
                    return result

                return created

            return make

        patcher.wrap(
            SecurityGroupBackend,
            "create_security_group",
            record(SG, lambda g: None if getattr(g, "is_default", False) else g.id),
        )
        patcher.wrap(
            NetworkInterfaceBackend, "create_network_interface", record(ENI, lambda e: e.id)
        )

        def rule_call(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def checked(*args: Any, **kwargs: Any) -> Any:
                rules._check_rule_call(original, args, kwargs)
                return original(*args, **kwargs)

            return checked

        for name in (
            "authorize_security_group_ingress",
            "authorize_security_group_egress",
            "revoke_security_group_ingress",
            "revoke_security_group_egress",
        ):
            patcher.wrap(SecurityGroupBackend, name, rule_call)

        def modify_instance_security_groups(
            backend: Any, instance_id: str, new_group_id_list: list[str]
        ) -> Any:
            instance = backend.get_instance(instance_id)
            nics = instance.__dict__.get("nics") or {}
            if len(nics) > 1:
                raise errors.multiple_interfaces(instance_id)
            rules.require_groups(backend, list(new_group_id_list))
            groups = [backend.get_security_group_from_id(g) for g in new_group_id_list]
            if nics:
                next(iter(nics.values()))._group_set = groups
            else:
                instance.__dict__["security_groups"] = groups
            return instance

        patcher.set(
            InstanceBackend, "modify_instance_security_groups", modify_instance_security_groups
        )

        def modify_interface(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def checked(*args: Any, **kwargs: Any) -> Any:
                call = arguments(original, args, kwargs)
                backend, eni_id = call["self"], call["eni_id"]
                eni = backend.get_network_interface(eni_id)  # NotFound as moto says it
                if rules.interface_fresh(eni.id):
                    raise errors.interface_not_found(eni_id)
                group_ids = list(call.get("group_ids") or [])
                rules.require_groups(backend, group_ids)
                return original(*args, **kwargs)

            return checked

        patcher.wrap(
            NetworkInterfaceBackend, "modify_network_interface_attribute", modify_interface
        )

        def attach_interface(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def checked(*args: Any, **kwargs: Any) -> Any:
                eni_id = arguments(original, args, kwargs)["eni_id"]
                if rules.interface_fresh(eni_id):
                    raise errors.interface_not_found(eni_id)
                return original(*args, **kwargs)

            return checked

        patcher.wrap(NetworkInterfaceBackend, "attach_network_interface", attach_interface)

        def delete_group(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def checked(*args: Any, **kwargs: Any) -> Any:
                call = arguments(original, args, kwargs)
                backend = call["self"]
                wanted = call.get("group_id") or call.get("name")
                group = backend.get_security_group_by_name_or_id(wanted) if wanted else None
                if group is not None:
                    if rules.group_fresh(group.id):
                        raise errors.group_not_found(str(wanted))
                    if rules.dependents(backend, group.id):
                        raise errors.group_in_use(group.id)
                return original(*args, **kwargs)

            return checked

        patcher.wrap(SecurityGroupBackend, "delete_security_group", delete_group)

        if self.config.describe_lag:

            def describe_groups(original: Callable[..., Any]) -> Callable[..., Any]:
                @functools.wraps(original)
                def lagging(*args: Any, **kwargs: Any) -> Any:
                    call = arguments(original, args, kwargs)
                    found = original(*args, **kwargs)
                    asked = list(call.get("group_ids") or []) + list(call.get("groupnames") or [])
                    fresh = [g for g in found if rules.group_fresh(g.id)]
                    if fresh and asked:
                        unseen = [g.id for g in fresh if g.id in asked or g.name in asked]
                        if unseen:
                            raise errors.group_not_found(", ".join(unseen))
                    return [g for g in found if g not in fresh]

                return lagging

            patcher.wrap(SecurityGroupBackend, "describe_security_groups", describe_groups)

        patcher.set(
            ElasticAddress,
            "instance_id",
            property(lambda a: getattr(_address_instance(a), "id", "") or ""),
        )

        def address_filter(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def value(address: Any, filter_name: str, method_name: str | None = None) -> Any:
                if filter_name == "instance-id" and address.instance is None:
                    instance = _address_instance(address)
                    return instance.id if instance is not None else None
                return original(address, filter_name, method_name)

            return value

        patcher.wrap(ElasticAddress, "get_filter_value", address_filter)

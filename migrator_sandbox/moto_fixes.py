"""Corrections to moto where it contradicts AWS's documented API for calls migrator makes.

Not strictness (that is `strict/`): without these, moto answers differently from AWS even at
leisure, so a correct tool fails on moto or a wrong one passes.

* Route53 change batches: AWS validates a batch against the zone as each change leaves it and
  applies it whole or not at all; a DELETE must name the record exactly as it is (the documented
  way to change a record's type is DELETE(old) + CREATE(new) in one batch, which then also fails
  safely when someone changed the record meanwhile). moto checks DELETEs against its journal of
  past changes and CREATEs against records that merely sort later, so it refuses that batch and
  accepts DELETEs of values that are no longer there. A weighted and a simple record of one name
  and type cannot coexist.
* Security groups belong to network interfaces: an instance's groups are the union of its
  interfaces' groups, primary interface first, and setting them sets the primary interface's.
  moto keeps a separate list on the instance, which ModifyNetworkInterfaceAttribute does not
  change (and which leaks back into every interface's groups). Installing moves a one-interface
  instance's instance-level list onto its interface (plain moto changed only that list);
  uninstalling writes the union back into moto's list, so plain moto then shows what was seen.
  (The strict world relies on this and installs it too.)
* A listener's certificates: its default certificate and its certificate list (moto keeps both
  in one list, the default first). ModifyListener's ``Certificates`` replaces the default only,
  and the certificates added with AddListenerCertificates stay (moto replaced the whole list);
  adding a certificate already in the list adds nothing (moto added it again);
  RemoveListenerCertificates of the default certificate is refused with OperationNotPermitted
  ("Default certificate cannot be removed", as AWS answers; moto dropped it from the list while
  the listener kept serving it, and DescribeListenerCertificates then called another one the
  default).
* A subnet's IPv6 association state reads `{'State': 'associated'}` as a string, where AWS
  sends `associated` (botocore enum SubnetCidrBlockStateCode).

`install()` and `uninstall()` nest (a count), so the sandbox and the tests may both call them.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_installed = 0
_saved: dict[str, Any] = {}


def install() -> None:
    global _installed
    with _lock:
        _installed += 1
        if _installed > 1:
            return
        from moto.ec2.models.elastic_network_interfaces import NetworkInterface
        from moto.ec2.models.instances import Instance
        from moto.ec2.models.subnets import Subnet
        from moto.elbv2.models import ELBv2Backend
        from moto.route53.models import Route53Backend

        for name, make in _LISTENER_FIXES.items():
            _saved[f"elbv2.{name}"] = ELBv2Backend.__dict__[name]
            setattr(ELBv2Backend, name, make(ELBv2Backend.__dict__[name]))
        _saved["subnet_ipv6"] = Subnet.__dict__["ipv6_cidr_block_association_set"]
        Subnet.ipv6_cidr_block_association_set = property(_subnet_ipv6)  # type: ignore[method-assign, assignment]  # deliberate moto monkeypatch
        _saved["change"] = Route53Backend.change_resource_record_sets
        _saved["instance_groups"] = Instance.__dict__.get("security_groups")
        _saved["eni_groups"] = NetworkInterface.__dict__["group_set"]
        Route53Backend.change_resource_record_sets = _change_resource_record_sets  # type: ignore[method-assign]  # deliberate moto monkeypatch
        Instance.security_groups = property(_instance_groups, _set_instance_groups)  # type: ignore[assignment]  # deliberate moto monkeypatch
        NetworkInterface.group_set = property(_interface_groups)  # type: ignore[method-assign, assignment]  # deliberate moto monkeypatch
        _groups_onto_interfaces()


def uninstall() -> None:
    global _installed
    with _lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed:
            return
        from moto.ec2.models.elastic_network_interfaces import NetworkInterface
        from moto.ec2.models.instances import Instance
        from moto.ec2.models.subnets import Subnet
        from moto.elbv2.models import ELBv2Backend
        from moto.route53.models import Route53Backend

        for name in _LISTENER_FIXES:
            setattr(ELBv2Backend, name, _saved.pop(f"elbv2.{name}"))
        _groups_back_onto_instances()
        Subnet.ipv6_cidr_block_association_set = _saved.pop("subnet_ipv6")  # type: ignore[method-assign]  # deliberate moto monkeypatch
        Route53Backend.change_resource_record_sets = _saved.pop("change")  # type: ignore[method-assign]  # deliberate moto monkeypatch
        original = _saved.pop("instance_groups")
        if original is None:
            del Instance.security_groups  # type: ignore[misc]  # deliberate moto monkeypatch
        else:
            Instance.security_groups = original
        NetworkInterface.group_set = _saved.pop("eni_groups")  # type: ignore[method-assign]  # deliberate moto monkeypatch


# -- Route53 -----------------------------------------------------------------------------------


def _name(name: str) -> str:
    return name.replace("\\052", "*").rstrip(".").lower()


def _key(record: dict[str, Any]) -> tuple[str, str, str | None]:
    return _name(record["Name"]), record["Type"], record.get("SetIdentifier")


def _values(record: dict[str, Any]) -> list[str]:
    return sorted(str(r["Value"] if isinstance(r, dict) else r)
                  for r in record.get("ResourceRecords") or [])


def _alias(record: dict[str, Any]) -> tuple[str, str, bool] | None:
    target = record.get("AliasTarget")
    if not target:
        return None
    evaluate = target.get("EvaluateTargetHealth", False)
    if isinstance(evaluate, str):
        evaluate = evaluate.lower() == "true"
    return (str(target.get("HostedZoneId", "")), _name(str(target.get("DNSName", ""))),
            bool(evaluate))


def _same(live: dict[str, Any], given: dict[str, Any]) -> bool:
    def ttl(record: dict[str, Any]) -> int | None:
        value = record.get("TTL")
        return None if value is None else int(value)

    return (_alias(live) == _alias(given) and ttl(live) == ttl(given)
            and _values(live) == _values(given)
            and str(live.get("Weight") or "") == str(given.get("Weight") or ""))


def _as_dict(rrset: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"Name": rrset.name, "Type": rrset.type}
    for key, attr in (("TTL", "ttl"), ("SetIdentifier", "set_identifier"),
                      ("Weight", "weight"), ("AliasTarget", "alias_target")):
        value = getattr(rrset, attr, None)
        if value is not None:
            record[key] = value
    record["ResourceRecords"] = list(getattr(rrset, "records", None) or [])
    return record


def _refuse(message: str) -> Exception:
    from moto.route53.exceptions import Route53ClientError

    return Route53ClientError("InvalidChangeBatch", message)


def _change_resource_record_sets(self: Any, zoneid: str, change_list: list[dict[str, Any]]
                                 ) -> None:
    from moto.route53.exceptions import DnsNameInvalidForZone, InvalidActionValue
    from moto.route53.utils import validate_domain_name

    zone = self.get_hosted_zone(zoneid)
    zone_name = _name(zone.name)
    records = {_key(r): r for r in (_as_dict(x) for x in zone.rrsets)}
    # Validate the whole batch against the zone as each change leaves it; apply nothing unless
    # every change is valid.
    for change in change_list:
        action, record = change["Action"], change["ResourceRecordSet"]
        validate_domain_name(record["Name"], code="InvalidChangeBatch")
        name = _name(record["Name"])
        if name != zone_name and not name.endswith("." + zone_name):
            raise DnsNameInvalidForZone(name=record["Name"], zone_name=zone.name)
        key = _key(record)
        said = f"[name='{name}.', type='{record['Type']}'" + (
            f", set-identifier='{key[2]}']" if key[2] else "]")
        if action == "DELETE":
            live = records.get(key)
            if live is None:
                raise _refuse(f"Tried to delete resource record set {said} but it was not found")
            if not _same(live, record):
                raise _refuse(f"Tried to delete resource record set {said} but the values "
                              "provided do not match the current values")
            del records[key]
        elif action in ("CREATE", "UPSERT"):
            if action == "CREATE" and key in records:
                raise _refuse(f"Tried to create resource record set {said} but it already "
                              "exists")
            if any(k[:2] == key[:2] and (k[2] is None) != (key[2] is None) for k in records):
                raise _refuse(f"RRSet of type {record['Type']} with DNS name {name}. is not "
                              "permitted because a conflicting RRSet of type "
                              f"{record['Type']} with the same DNS name already exists in "
                              f"zone {zone_name}.")
            records[key] = record
        else:
            raise InvalidActionValue(action)
    for change in change_list:
        original = copy.deepcopy(change)
        record = change["ResourceRecordSet"]
        if not record["Name"].endswith("."):
            record["Name"] += "."
        if change["Action"] == "DELETE":
            key = _key(record)
            zone.rrsets = [r for r in zone.rrsets if _key(_as_dict(r)) != key]
        else:
            if "ResourceRecords" in record:
                record["ResourceRecords"] = [r["Value"] if isinstance(r, dict) else r
                                             for r in record["ResourceRecords"]]
            zone.upsert_rrset(record)
        zone.rr_changes.append(original)


# -- ELBv2: a listener's default certificate and its certificate list ---------------------------


def _listener(backend: Any, arn: str) -> Any:
    return backend.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]


def _modify_listener(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def modify_listener(self: Any, arn: str, port: str | None = None,
                        protocol: str | None = None, ssl_policy: str | None = None,
                        certificates: list[dict[str, Any]] | None = None,
                        actions: list[dict[str, Any]] | None = None) -> Any:
        kept = list(_listener(self, arn).certificates[1:])  # the list, the default aside
        listener = original(self, arn, port, protocol, ssl_policy, certificates, actions)
        if certificates:
            given = [c["CertificateArn"] for c in certificates]
            listener.certificates = [*given, *(c for c in kept if c not in given[1:])]
        return listener

    return modify_listener


def _add_listener_certificates(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def add_listener_certificates(self: Any, arn: str,
                                  certificates: list[dict[str, Any]]) -> Any:
        listed = _listener(self, arn).certificates[1:]
        fresh = [c for c in certificates if c.get("CertificateArn") not in listed]
        fresh = list({c.get("CertificateArn"): c for c in fresh}.values())
        return original(self, arn, fresh)

    return add_listener_certificates


def _remove_listener_certificates(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def remove_listener_certificates(self: Any, arn: str,
                                     certificates: list[dict[str, Any]]) -> None:
        from moto.elbv2.exceptions import ELBClientError

        listener = _listener(self, arn)
        default = listener.certificates[0] if listener.certificates else None
        listed = listener.certificates[1:]
        arns = {c.get("CertificateArn") for c in certificates}
        if default in arns and default not in listed:
            raise ELBClientError("OperationNotPermitted", "Default certificate cannot be removed")
        # the certificate list loses them; the default entry stays whatever the list held
        listener.certificates = [
            *listener.certificates[:1], *(c for c in listed if c not in arns)
        ]

    return remove_listener_certificates


_LISTENER_FIXES: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "modify_listener": _modify_listener,
    "add_listener_certificates": _add_listener_certificates,
    "remove_listener_certificates": _remove_listener_certificates,
}


# -- EC2: groups on interfaces -------------------------------------------------------------------


def _instance_groups(self: Any) -> list[Any]:
    """The union of the instance's interfaces' groups, primary interface first (moto's own list
    while it builds the instance, before it has interfaces)."""
    nics = self.__dict__.get("nics")
    if not nics:
        return list(self.__dict__.get("security_groups") or [])
    union: list[Any] = []
    seen: set[str] = set()
    for index in sorted(nics):
        for group in list(getattr(nics[index], "_group_set", None) or []):
            if group is not None and group.id not in seen:
                seen.add(group.id)
                union.append(group)
    return union


def _set_instance_groups(self: Any, groups: list[Any] | None) -> None:
    nics = self.__dict__.get("nics") or {}
    if 0 in nics:
        nics[0]._group_set = list(groups or [])
    else:
        self.__dict__["security_groups"] = list(groups or [])


def _interface_groups(self: Any) -> list[Any]:
    return [group for group in list(self._group_set) if group is not None]


def _all_instances() -> list[Any]:
    from moto.ec2.models import ec2_backends

    from .backends import existing

    return [instance for _account, _region, backend in existing(ec2_backends)
            for instance in backend.all_instances()]


def _groups_onto_interfaces() -> None:
    for instance in _all_instances():
        nics = instance.__dict__.get("nics") or {}
        level = [g for g in instance.__dict__.get("security_groups") or [] if g]
        if len(nics) == 1 and level:
            nic = next(iter(nics.values()))
            if [g.id for g in nic._group_set] != [g.id for g in level]:
                nic._group_set = list(level)


def _groups_back_onto_instances() -> None:
    for instance in _all_instances():
        instance.__dict__["security_groups"] = _instance_groups(instance)


def _subnet_ipv6(self: Any) -> list[dict[str, Any]]:
    return [{"ipv6CidrBlock": a["ipv6CidrBlock"], "associationId": a["associationId"],
             "ipv6CidrBlockState": {"state": a["ipv6CidrBlockState"]["State"]}}
            for a in self.ipv6_cidr_block_associations.values()
            if a["ipv6CidrBlockState"]["State"] == "associated"]

"""Route53 actions: the certificate's validation records, the switch of the site's records to
an alias of the load balancer, and its undo. Each change is exact: a record someone else
changed is never overwritten."""

from __future__ import annotations

from typing import Any

from migrator.core.actions.context import Context
from migrator.core.actions.model import Action, Traits, Undo
from migrator.core.plan import now
from migrator.core.retry import poll
from migrator.errors import AwsError, AwsNotFoundError, StalePlanError

# --- validation records ---------------------------------------------------------------------


def validation_records(ctx: Context, arn: str, timeout: float = 300) -> list[dict[str, str]]:
    """The certificate's validation CNAMEs; ACM fills them in a few seconds after the request
    (and may not even know a certificate requested a moment ago)."""

    def ready() -> list[dict[str, str]] | None:
        try:
            options = ctx.aws.acm.describe(arn).get("DomainValidationOptions", [])
        except AwsNotFoundError:
            return None
        records = [o["ResourceRecord"] for o in options if "ResourceRecord" in o]
        if not options or len(records) != len(options):
            return None
        unique = {r["Name"].lower(): {"Name": r["Name"], "Type": r["Type"], "Value": r["Value"]}
                  for r in records}
        return sorted(unique.values(), key=lambda r: r["Name"])

    return poll(ready, what=f"ACM's validation records for {arn}", deadline=timeout,
                clock=ctx.clock, hint="run apply again")


def current_record(ctx: Context, zone: str, name: str, rtype: str) -> dict[str, Any] | None:
    """The live simple (not weighted, latency, ...) record of that name and type, or None."""
    for record in ctx.aws.route53.records_named(zone, name):
        if record["Type"] == rtype and not record.get("SetIdentifier"):
            return record
    return None


def _cname(record: dict[str, str], ttl: int = 300) -> dict[str, Any]:
    return {"Name": record["Name"], "Type": "CNAME", "TTL": ttl,
            "ResourceRecords": [{"Value": record["Value"]}]}


def create_validation_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    wanted = validation_records(ctx, p["CertificateArn"])
    if "created" not in ctx.state.observed:
        # Decide once, before any change, which records are ours: ACM gives every certificate
        # for a name the same CNAME, so one that already exists belongs to someone else.
        created, preexisting = [], []
        for record in wanted:
            live = current_record(ctx, zone, record["Name"], "CNAME")
            if live is None:
                created.append(record)
            elif [r["Value"].rstrip(".") for r in live.get("ResourceRecords", [])] == [
                    record["Value"].rstrip(".")]:
                preexisting.append(record)
            else:
                raise StalePlanError(
                    f"{record['Name']} already exists with another value",
                    hint="remove that stale validation record, then run apply again")
        ctx.observe(created=created, preexisting=preexisting)
    created = ctx.state.observed["created"]
    missing = [r for r in created if current_record(ctx, zone, r["Name"], "CNAME") is None]
    if missing:
        # No wait for INSYNC: ACM keeps looking for the record by itself, and nothing else
        # depends on it, so the load balancer's steps go ahead meanwhile.
        ctx.aws.route53.change(
            zone, [{"Action": "CREATE", "ResourceRecordSet": _cname(r)} for r in missing],
            f"migrator {ctx.plan.id}: ACM validation")
    return {"created": created, "preexisting": ctx.state.observed["preexisting"]}


def delete_validation_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    created = p.get("Created")
    if created is None:
        created = ctx.state.observed.get("created", [])
    still_used = _validation_names_of_other_certificates(ctx, p.get("CertificateArn"))
    changes = []
    for record in created:
        if _still_used(record["Name"], still_used):
            ctx.notes.append(f"kept {record['Name']}: another certificate still validates with it")
            continue
        live = current_record(ctx, zone, record["Name"], "CNAME")
        if live and live.get("ResourceRecords") == [{"Value": record["Value"]}]:
            changes.append({"Action": "DELETE", "ResourceRecordSet": live})
    if changes:
        change_id = ctx.aws.route53.change(zone, changes,
                                           f"migrator {ctx.plan.id}: rollback validation")
        ctx.aws.route53.wait_insync(change_id, timeout=600)
    return {}


def _validation_names_of_other_certificates(ctx: Context, our_arn: str | None) -> set[str]:
    names = set(ctx.snapshot.names)
    used: set[str] = set()
    statuses = ("ISSUED", "PENDING_VALIDATION", "INACTIVE", "EXPIRED", "FAILED")
    for summary in ctx.aws.acm.list_summaries(statuses):
        if summary["CertificateArn"] == our_arn:
            continue
        cert_names = set(summary.get("SubjectAlternativeNameSummaries")
                         or [summary["DomainName"]])
        if not cert_names & names:
            continue
        try:
            detail = ctx.aws.acm.describe(summary["CertificateArn"])
        except AwsNotFoundError:
            continue
        for option in detail.get("DomainValidationOptions", []):
            if "ResourceRecord" in option:
                used.add(option["ResourceRecord"]["Name"].lower())
            else:
                # Requested a moment ago: ACM has not said its record yet, but it will be the
                # one every certificate of this name gets. Keep whatever validates the name.
                used.add(_PENDING + option["DomainName"].lower().removeprefix("*.").rstrip("."))
    return used


_PENDING = "pending:"


def _still_used(record_name: str, used: set[str]) -> bool:
    """Whether a validation record ("_<hash>.NAME.") is one another certificate needs."""
    name = record_name.lower()
    return name in used or _PENDING + name.partition(".")[2].rstrip(".") in used


# --- the switch -----------------------------------------------------------------------------

def alias_record(original: dict[str, Any], alias: dict[str, Any]) -> dict[str, Any]:
    return {"Name": original["Name"], "Type": original["Type"], "AliasTarget": {
        "HostedZoneId": alias["HostedZoneId"], "DNSName": alias["DNSName"],
        "EvaluateTargetHealth": alias["EvaluateTargetHealth"]}}


def same_alias(live: dict[str, Any] | None, alias: dict[str, Any]) -> bool:
    target = (live or {}).get("AliasTarget")
    return bool(target and target["DNSName"].rstrip(".").lower().removeprefix("dualstack.") ==
                alias["DNSName"].rstrip(".").lower().removeprefix("dualstack."))


def same_plain(live: dict[str, Any] | None, original: dict[str, Any]) -> bool:
    return bool(live and "AliasTarget" not in live and live.get("TTL") == original.get("TTL")
                and sorted(r["Value"] for r in live.get("ResourceRecords", [])) ==
                sorted(r["Value"] for r in original.get("ResourceRecords", [])))


def _changed_meanwhile(exc: AwsError) -> bool:
    """Route53 refused the batch because a DELETE did not match the record exactly (someone
    changed it between our read and our change): nothing in the batch was applied."""
    return exc.code == "InvalidChangeBatch" or "do not match" in exc.message


def switch_to_alias(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone, alias = p["HostedZoneId"], p["Alias"]
    changes = []
    for original in p["Originals"]:
        live = current_record(ctx, zone, original["Name"], original["Type"])
        if same_alias(live, alias):
            continue  # already switched by an earlier, interrupted run
        if not same_plain(live, original):
            raise StalePlanError(
                f"{original['Name']} {original['Type']} changed since the plan was made",
                hint="re-plan; the record is left as it is now")
        # A compare-and-swap, as AWS documents for changing a record's type: DELETE the exact
        # original and CREATE the alias in one batch. Route53 applies a batch whole or not at
        # all, and refuses the DELETE if the record is no longer exactly that, so a change made
        # by someone else is never overwritten; resolvers see the old answer or the new one.
        changes += [{"Action": "DELETE", "ResourceRecordSet": original},
                    {"Action": "CREATE", "ResourceRecordSet": alias_record(original, alias)}]
    ttl = max((o.get("TTL") or 0) for o in p["Originals"])
    if changes:
        change_exactly(ctx, zone, changes, "switch",
                        "a record changed since the plan was made; nothing was switched",
                        "re-plan; the records are left as they are now")
    return {"switched_at": ctx.state.outputs.get("switched_at") or now(), "old_ttl": ttl}


def change_exactly(ctx: Context, zone: str, changes: list[dict[str, Any]], purpose: str,
                    refused: str, hint: str) -> None:
    try:
        change_id = ctx.aws.route53.change(zone, changes, f"migrator {ctx.plan.id}: {purpose}")
    except AwsError as exc:
        if _changed_meanwhile(exc):
            raise StalePlanError(f"{refused} ({exc.message})", hint=hint) from exc
        raise
    ctx.aws.route53.wait_insync(change_id, timeout=900)


def restore_records(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    zone = p["HostedZoneId"]
    changes = []
    for original in p["Originals"]:
        live = current_record(ctx, zone, original["Name"], original["Type"])
        if same_plain(live, original):
            continue
        if live is not None and not (p["Alias"].get("DNSName") and same_alias(live, p["Alias"])):
            raise StalePlanError(
                f"{original['Name']} was changed by someone else since apply",
                hint="restore it by hand; migrator does not overwrite changes it did not make")
        # The same compare-and-swap back: DELETE our alias exactly as it is, CREATE the original.
        if live is not None:
            changes.append({"Action": "DELETE", "ResourceRecordSet": live})
        changes.append({"Action": "CREATE", "ResourceRecordSet": original})
    if changes:
        change_exactly(ctx, zone, changes, "restore",
                        "a record changed since apply; nothing was restored",
                        "restore it by hand; migrator does not overwrite changes it did not make")
        # Resolvers may hold the alias answer for its TTL: keep the load balancer up meanwhile.
        ctx.clock.sleep(ctx.dns_drain_seconds)
    return {}


DELETE_VALIDATION_RECORDS = Undo("route53.delete_validation_records", delete_validation_records)
CREATE_VALIDATION_RECORDS = Action("route53.create_validation_records",
                                   create_validation_records, DELETE_VALIDATION_RECORDS)
RESTORE_RECORDS = Undo("route53.restore_records", restore_records)
SWITCH_TO_ALIAS = Action("route53.switch_to_alias", switch_to_alias, RESTORE_RECORDS,
                         Traits(dns_switch=True))

ACTIONS = (CREATE_VALIDATION_RECORDS, SWITCH_TO_ALIAS)

"""Route 53 as AWS behaves where moto does not.

* ChangeResourceRecordSets answers ``PENDING`` with a change id of its own; GetChange says
  ``PENDING`` until ``route53_insync_delay`` passed, then ``INSYNC`` (moto: always INSYNC, one
  fixed id).
* Every ``route53_throttle_every``-th ChangeResourceRecordSets (0 = never) is refused, before
  it changes anything, with HTTP 400 ``Throttling`` / ``Rate exceeded`` -- which botocore's
  standard (and legacy) retry mode retries.
* When each record was last written (CREATE/UPSERT) is kept for ACM's validation.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from moto.core.utils import utcnow
from moto.route53.models import Route53Backend
from moto.route53.responses import Route53

from . import errors
from .config import StrictConfig
from .ledger import Ledger
from .patching import Patcher

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def change_id(number: int) -> str:
    """A Route 53 style change id (``C`` + 13 upper-case letters and digits)."""
    digest = int(hashlib.sha256(f"strict-change-{number}".encode()).hexdigest(), 16)
    chars = []
    for _ in range(13):
        digest, index = divmod(digest, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "C" + "".join(chars)


class Route53Rules:
    """Installs the Route 53 rules."""

    def __init__(self, ledger: Ledger, config: StrictConfig):
        self.ledger = ledger
        self.config = config
        self._changes = 0

    def should_throttle(self) -> bool:
        every = self.config.route53_throttle_every
        with self.ledger.lock:
            if self.ledger.relaxed:
                return False
            self.ledger.route53_calls += 1
            return every > 0 and self.ledger.route53_calls % every == 0

    def new_change(self) -> str:
        with self.ledger.lock:
            self._changes += 1
            cid = change_id(self._changes)
            self.ledger.changes[cid] = self.ledger.now()
            return cid

    def change_status(self, cid: str) -> tuple[str, float] | None:
        """(PENDING or INSYNC, seconds since submitted) for a change of ours; None otherwise."""
        with self.ledger.lock:
            submitted = self.ledger.changes.get(cid)
            if submitted is None:
                return None
            elapsed = self.ledger.now() - submitted
        status = "INSYNC" if elapsed >= self.config.route53_insync_delay else "PENDING"
        return status, elapsed

    def install(self, patcher: Patcher) -> None:
        rules = self
        ledger = self.ledger

        def backend_change(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(backend: Any, zoneid: str, change_list: list[dict[str, Any]]) -> Any:
                result = original(backend, zoneid, change_list)
                zone = backend.get_hosted_zone(zoneid)
                with ledger.lock:
                    if not ledger.relaxed:
                        now = ledger.now()
                        for change in change_list:
                            if change.get("Action") not in ("CREATE", "UPSERT"):
                                continue
                            record = change.get("ResourceRecordSet") or {}
                            name = str(record.get("Name", "")).lower().rstrip(".")
                            kind = str(record.get("Type", "")).upper()
                            ledger.record_changed[(zone.id, name, kind)] = now
                return result

            return call

        patcher.wrap(Route53Backend, "change_resource_record_sets", backend_change)

        def change_records(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(response: Any) -> Any:
                if rules.should_throttle():
                    raise errors.Throttling()
                result = original(response)
                if ledger.relaxed:
                    return result
                info = getattr(result, "result", None)
                if isinstance(info, dict) and isinstance(info.get("ChangeInfo"), dict):
                    info["ChangeInfo"] = {
                        "Id": f"/change/{rules.new_change()}",
                        "Status": "PENDING",
                        "SubmittedAt": utcnow(),
                    }
                return result

            return call

        patcher.wrap(Route53, "change_resource_record_sets", change_records)

        def get_change(original: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(response: Any) -> Any:
                result = original(response)
                info = getattr(result, "result", None)
                if not isinstance(info, dict) or not isinstance(info.get("ChangeInfo"), dict):
                    return result
                cid = str(info["ChangeInfo"].get("Id", "")).rsplit("/", 1)[-1]
                found = rules.change_status(cid)
                if found is not None:
                    status, elapsed = found
                    info["ChangeInfo"]["Id"] = f"/change/{cid}"
                    info["ChangeInfo"]["Status"] = status
                    info["ChangeInfo"]["SubmittedAt"] = utcnow() - dt.timedelta(seconds=elapsed)
                return result

            return call

        patcher.wrap(Route53, "get_change", get_change)

"""The plan: data that says what apply will do, in order, and how each step is undone.

A step names its action (an AWS call, a wait or a check), its parameters, which may refer to an
earlier step's outputs as {"ref": "step_id.output"}, and its inverse. The plan file holds the
reviewed content only; each step's state (status, outputs, what was observed before acting) and the
journal go to the plan's state file as apply runs, bound to the plan by its id and sha256.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from migrator.core.snapshot import Snapshot
from migrator.errors import PlanFileError

FORMAT = "migrator.plan/v1"
STATE_FORMAT = "migrator.state/v1"

PENDING, RUNNING, DONE, FAILED, SKIPPED = "pending", "running", "done", "failed", "skipped"
REVERTING, REVERTED = "reverting", "reverted"


def ref(path: str) -> dict[str, str]:
    """A parameter value taken from an earlier step's output: ref("target_group.arn")."""
    return {"ref": path}


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"ref"} and isinstance(value["ref"], str)


def ref_parts(value: dict[str, str]) -> tuple[str, str]:
    """(step id, output name) of a ref: a step of a plan for several sites has its site's
    domain in its id ("certificate@shop.example.com"), and output names have no dot."""
    step_id, _, key = value["ref"].rpartition(".")
    return step_id, key


@dataclass(frozen=True)
class Inverse:
    """How a step is undone: an action and its parameters (refs allowed)."""

    action: str
    params: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Step:
    """One instruction of the plan."""

    id: str
    action: str
    description: str
    params: dict[str, Any]
    inverse: Inverse | None = None
    # The site (its domain) a step of a plan for several sites belongs to; None: a step every
    # site shares (the load balancer), or any step of a plan for one site.
    site: str | None = None


@dataclass
class StepState:
    """What happened to a step: journaled before and after its call."""

    status: str = PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None
    reverted_at: str | None = None
    error: str | None = None


# The security policy the ELB documentation recommends for an HTTPS listener ("Security policies
# for your Application Load Balancer",
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html):
# the console's default, TLS 1.3 and 1.2 with hybrid post-quantum key exchange for clients that
# offer it, classic key exchange for the others. The API's own default is TLS 1.0's
# ELBSecurityPolicy-2016-08, which is why a plan always names its policy.
RECOMMENDED_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"


@dataclass(frozen=True)
class PlanOptions:
    """The choices the plan was made with."""

    sans: tuple[str, ...] = ()
    health_check_path: str = "/"
    health_check_matcher: str = "200-399"
    ssl_policy: str = RECOMMENDED_TLS_POLICY
    http_redirect: bool = True
    certificate_timeout_seconds: int = 4 * 3600
    # Once the old TTL has passed, admit web traffic to the instance only from the load balancer.
    lockdown: bool = True
    # The load balancer's idle timeout (ELB allows 1-4000 s; 60 is its default), below how long
    # the origin keeps idle connections: origin_idle_seconds, as preflight found it (None: not
    # measured, or at least as long as the probe waited). Plans made before these fields existed
    # load with these defaults.
    idle_timeout_seconds: int = 60
    origin_idle_seconds: float | None = None
    # A canary switch (`plan --canary 10,50,100 --soak S`): the percentages of the traffic sent
    # to the load balancer by weighted records, stage by stage, ending at 100 (empty: the one
    # batch switch), each held soak seconds while the load balancer's CloudWatch figures stay
    # within these bounds (counts over a soak; the response time as a multiple of the origin's
    # latency, measured by preflight's health check probe, plus a margin).
    canary_stages: tuple[int, ...] = ()
    canary_soak_seconds: int = 300
    canary_max_target_5xx: int = 0
    canary_max_elb_5xx: int = 0
    canary_max_unhealthy_hosts: int = 0
    canary_response_time_factor: float = 3.0
    canary_response_time_margin_seconds: float = 0.25
    origin_latency_seconds: float | None = None

    def __post_init__(self) -> None:
        # a plan file holds a list; the options compare as the planner made them
        object.__setattr__(self, "canary_stages", tuple(self.canary_stages))
        timeout = self.idle_timeout_seconds
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 4000:
            raise ValueError(f"idle_timeout_seconds {timeout!r} is not a whole number of "
                             "seconds from 1 to 4000")

    def to_dict(self) -> dict[str, Any]:
        """The options as the plan file holds them. Without a canary, its fields are left out
        while they have their defaults, so a plan without one (and every plan made before the
        canary existed) has the content, hence the sha256, it always had; with one, all of its
        bounds are written, defaults included, for the reviewer."""
        data = {**self.__dict__, "sans": list(self.sans),
                "canary_stages": list(self.canary_stages)}
        if not self.canary_stages:
            for name in _CANARY_FIELDS:
                if getattr(self, name) == _DEFAULT_CANARY[name]:
                    del data[name]
        return data


_CANARY_FIELDS = ("canary_stages", "canary_soak_seconds", "canary_max_target_5xx",
                  "canary_max_elb_5xx", "canary_max_unhealthy_hosts",
                  "canary_response_time_factor", "canary_response_time_margin_seconds",
                  "origin_latency_seconds")
_DEFAULT_CANARY = {name: PlanOptions.__dataclass_fields__[name].default
                   for name in _CANARY_FIELDS}


@dataclass
class Plan:
    """A whole plan: identity, the snapshot it was made from, its steps and their states."""

    id: str
    created_at: str
    snapshot: Snapshot
    options: PlanOptions
    steps: tuple[Step, ...]
    states: dict[str, StepState] = field(default_factory=dict)
    journal: list[dict[str, Any]] = field(default_factory=list)
    # A plan for several sites behind one load balancer: the snapshots of the sites after the
    # first (whose snapshot is `snapshot`), in the order the user named them.
    more_sites: tuple[Snapshot, ...] = ()

    def __post_init__(self) -> None:
        for step in self.steps:
            self.states.setdefault(step.id, StepState())

    @property
    def domain(self) -> str:
        return self.snapshot.domain

    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        """Every site's snapshot, the first site's first."""
        return (self.snapshot, *self.more_sites)

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(s.domain for s in self.snapshots)

    def site_snapshot(self, site: str | None) -> Snapshot:
        """The snapshot of the site a step belongs to (the first site's for a shared step)."""
        if site is None:
            return self.snapshot
        for snap in self.snapshots:
            if snap.domain == site:
                return snap
        raise KeyError(site)

    def state(self, step_id: str) -> StepState:
        return self.states[step_id]

    def outputs(self) -> dict[str, dict[str, Any]]:
        return {sid: st.outputs for sid, st in self.states.items()}

    def record(self, event: str, step: str | None = None, **detail: Any) -> None:
        entry: dict[str, Any] = {"at": now(), "event": event}
        if step:
            entry["step"] = step
        entry.update(detail)
        self.journal.append(entry)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "format": FORMAT,
            "id": self.id,
            "created_at": self.created_at,
            "domain": self.snapshot.domain,
            "names": list(self.snapshot.names),
            "account": self.snapshot.account,
            "region": self.snapshot.region,
            "options": self.options.to_dict(),
            "snapshot": self.snapshot.to_dict(),
            "steps": [_step_dict(s, self.states[s.id]) for s in self.steps],
            "journal": self.journal,
        }
        if self.more_sites:  # absent for one site, so a plan for one keeps its sha256
            data["more_sites"] = [snap.to_dict() for snap in self.more_sites]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        if not isinstance(data, dict) or "format" not in data:
            raise PlanFileError("this is not a migrator plan file (no format field)",
                                hint="pass a file written by `migrator plan`")
        if data["format"] != FORMAT:
            raise PlanFileError(f"plan format {data['format']!r} is not supported "
                                f"(this migrator reads {FORMAT})",
                                hint="re-plan with this version of migrator")
        try:
            options = dict(data["options"])
            options["sans"] = tuple(options.get("sans", ()))
            steps, states = [], {}
            for raw in data["steps"]:
                inverse = raw.get("inverse")
                steps.append(Step(
                    id=raw["id"], action=raw["action"], description=raw["description"],
                    params=raw["params"],
                    inverse=Inverse(inverse["action"], inverse["params"],
                                    inverse.get("description", "")) if inverse else None,
                    site=raw.get("site")))
                states[raw["id"]] = StepState(**raw.get("state", {}))
            return cls(id=data["id"], created_at=data["created_at"],
                       snapshot=Snapshot.from_dict(data["snapshot"]),
                       options=PlanOptions(**options), steps=tuple(steps), states=states,
                       journal=list(data.get("journal", [])),
                       more_sites=tuple(Snapshot.from_dict(d)
                                        for d in data.get("more_sites", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanFileError(f"the plan file is damaged: {exc.__class__.__name__} {exc}",
                                hint="re-plan, or restore the file from version control") from exc


def reviewed_content(plan: Plan) -> dict[str, Any]:
    """The plan as a reviewer approves it, and as its plan file holds it: everything but what
    apply journals (each step's state and the journal), so applying a plan does not change what
    was approved."""
    data = plan.to_dict()
    data.pop("journal", None)
    data["steps"] = [{k: v for k, v in step.items() if k != "state"} for step in data["steps"]]
    return data


def plan_digest(plan: Plan) -> str:
    """The plan's sha256 (hex): of the canonical JSON (sorted keys, no spaces, UTF-8) of its
    reviewed content. `apply --expect-sha256` refuses a plan whose digest differs."""
    canonical = json.dumps(reviewed_content(plan), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def state_content(plan: Plan) -> dict[str, Any]:
    """What apply journals, as the state file holds it: every step's state and the journal,
    bound to exactly this plan by its id and sha256."""
    return {
        "format": STATE_FORMAT,
        "plan_id": plan.id,
        "plan_sha256": plan_digest(plan),
        "steps": {step.id: dict(plan.states[step.id].__dict__) for step in plan.steps},
        "journal": plan.journal,
    }


def states_from_content(plan: Plan, data: dict[str, Any]
                        ) -> tuple[dict[str, StepState], list[dict[str, Any]]]:
    """The step states and journal a state file's content holds for plan (whose id and sha256
    the caller has checked); KeyError, TypeError or ValueError when the content is damaged."""
    raw, journal = data["steps"], data["journal"]
    if not isinstance(raw, dict) or not isinstance(journal, list):
        raise TypeError("steps is not an object or journal not a list")
    ids = [step.id for step in plan.steps]
    if set(raw) != set(ids):
        raise ValueError("its steps are not the plan's")
    return {sid: StepState(**raw[sid]) for sid in ids}, list(journal)


def _step_dict(step: Step, state: StepState) -> dict[str, Any]:
    data = {
        "id": step.id,
        "action": step.action,
        "description": step.description,
        "params": step.params,
        "inverse": ({"action": step.inverse.action, "params": step.inverse.params,
                     "description": step.inverse.description} if step.inverse else None),
        "state": {k: v for k, v in state.__dict__.items()},
    }
    if step.site is not None:
        data["site"] = step.site
    return data


class MissingOutput(LookupError):
    """A reference to an output that is not (yet) recorded."""


def resolve(value: Any, outputs: dict[str, dict[str, Any]], *, lenient: bool = False) -> Any:
    """value with every {"ref": "step.output"} replaced by that output.

    lenient: a missing output becomes None (rollback after a crash, where the handler then
    finds the resource by its name and tag) instead of raising MissingOutput.
    """
    if is_ref(value):
        step_id, key = ref_parts(value)
        try:
            return outputs[step_id][key]
        except KeyError as exc:
            if lenient:
                return None
            raise MissingOutput(value["ref"]) from exc
    if isinstance(value, dict):
        return {k: resolve(v, outputs, lenient=lenient) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs, lenient=lenient) for v in value]
    return value


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

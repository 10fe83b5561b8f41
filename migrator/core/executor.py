"""Carry out a plan step by step, journaling each step to the plan's state file before and after
its call (the plan file itself is never rewritten); resume from the first unfinished step; stop
before the DNS switch when asked; roll back what was done in reverse order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from migrator.core import actions, planfile
from migrator.core.actions import Action, Context, Deferred
from migrator.core.inspector import inspect_site
from migrator.core.load_balancers import find_load_balancer, joined_plans
from migrator.core.plan import (
    DONE,
    FAILED,
    PENDING,
    REVERTED,
    REVERTING,
    RUNNING,
    SKIPPED,
    Plan,
    Step,
    now,
    resolve,
)
from migrator.core.retry import FRESH_UNDO_WINDOW, SYSTEM_CLOCK, Clock
from migrator.core.shared_planner import base_step_id
from migrator.core.snapshot import Snapshot
from migrator.core.status import STOPPED_BEFORE_SWITCH, stopped_before_switch, switch_begun
from migrator.errors import (
    AwsNotFoundError,
    Interrupted,
    MigratorError,
    PlanFileError,
    PlanMismatchError,
    SharedLoadBalancerInUseError,
    SitesRevertedError,
    StalePlanError,
    UsageError,
    VerificationError,
)

T = TypeVar("T")


class Reporter:
    """Where the executor says what it is doing; the CLI gives a rich one, tests a silent one."""

    def step_started(self, step: Step, undo: bool) -> None: ...
    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None: ...
    def note(self, text: str) -> None: ...


class _Together(Reporter):
    """The reporter of steps running at once: one at a time says what it did; the first one
    started stands for all (a console shows one step running)."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.started = False

    def step_started(self, step: Step, undo: bool) -> None:
        with self.lock:
            if not self.started:
                self.started = True
                self.inner.step_started(step, undo)

    def step_finished(self, step: Step, status: str, seconds: float, undo: bool) -> None:
        with self.lock:
            self.inner.step_finished(step, status, seconds, undo)

    def note(self, text: str) -> None:
        with self.lock:
            self.inner.note(text)


@dataclass
class RunOptions:
    skip_verify: bool = False
    dns_drain_seconds: float = 60.0
    delete_timeout: float = 900.0
    check_stale: bool = True
    wait_for_ttl: bool = False
    # Run every step before the plan's DNS switch (its checks through the load balancer
    # included), then stop there: the site is ready to switch, DNS untouched.
    stop_before_switch: bool = False
    clock: Clock = SYSTEM_CLOCK


@dataclass
class Executor:
    """Runs one plan file against AWS."""

    aws: Any
    path: Path
    plan: Plan
    options: RunOptions = field(default_factory=RunOptions)
    reporter: Reporter = field(default_factory=Reporter)
    verifier: Any = None
    inspect: Callable[..., Snapshot] = inspect_site
    lock: threading.RLock = field(default_factory=threading.RLock)

    def save(self) -> None:
        """Journal the steps' states to the state file beside the plan file at self.path (one
        save at a time: the same step of several sites may run at once)."""
        with self.lock:
            planfile.save_state(self.plan, self.path)

    def _context(self, step: Step, *, drain: bool = True, fresh_seconds: float = 0.0
                 ) -> Context:
        return Context(aws=self.aws, plan=self.plan, state=self.plan.state(step.id),
                       save=self.save, verifier=self.verifier,
                       dns_drain_seconds=self.options.dns_drain_seconds if drain else 0.0,
                       delete_timeout=self.options.delete_timeout,
                       wait_for_ttl=self.options.wait_for_ttl, clock=self.options.clock,
                       fresh_seconds=fresh_seconds, progress=self.reporter.note,
                       site=step.site, lock=self.lock)

    def _outputs(self) -> dict[str, dict[str, Any]]:
        return {sid: {**st.observed, **st.outputs} for sid, st in self.plan.states.items()}

    # --- checks before any change -------------------------------------------------------------

    def check_target(self) -> None:
        """The credentials must be for the plan's account and region."""
        snap = self.plan.snapshot
        if self.aws.region != snap.region:
            raise PlanMismatchError(
                f"the plan is for region {snap.region}, the credentials use {self.aws.region}",
                hint=f"pass --region {snap.region}")
        account = self.aws.sts.account_id()
        if account != snap.account:
            raise PlanMismatchError(
                f"the plan is for account {snap.account}, the credentials are for {account}",
                hint="use the profile of the account the plan was made for")
        unknown = actions.unknown_names(self.plan.steps)
        if unknown:
            raise PlanFileError(f"this migrator cannot run actions {', '.join(unknown)}",
                                hint="upgrade migrator or re-plan")

    def check_not_stale(self) -> None:
        """Before the first change: what is live must still be what the plan was made from
        (every site's setup, and the load balancer a site is to join)."""
        several = len(self.plan.snapshots) > 1

        def differences_of(snap: Snapshot) -> list[str]:
            live = self.inspect(self.aws, snap.domain, snap.names[1:])
            found = snapshot_differences(snap, live)
            if snap.load_balancer is not None:
                found += load_balancer_differences(
                    snap, find_load_balancer(self.aws, snap.load_balancer.arn))
            return [f"{snap.domain}: {d}" if several else d for d in found]

        with ThreadPoolExecutor(max_workers=min(len(self.plan.snapshots),
                                                PARALLEL_SITES)) as pool:
            differences = [d for found in pool.map(differences_of, self.plan.snapshots)
                           for d in found]
        if differences:
            raise StalePlanError(
                "the setup changed since the plan was made: " + "; ".join(differences),
                hint="make a new plan with `migrator plan`")

    # --- apply ----------------------------------------------------------------------------------

    def apply(self) -> str | None:
        """Run every unfinished step; returns why apply stopped early (a deferred step, or the
        stop before the DNS switch that was asked for), or None when the plan is complete."""
        states = self.plan.states
        alone = reverted_sites(self.plan)
        if any(st.status in (REVERTED, REVERTING) for sid, st in states.items()
               if self._site_of(sid) not in alone):
            raise PlanFileError("this plan was rolled back",
                                hint="make a new plan to migrate again")
        stop = self.options.stop_before_switch
        begun = switch_begun(self.plan)
        if stop and begun is not None:
            # apply_plans says so in one line before it gets here; this is the guarantee.
            raise UsageError(f"the DNS switch ({begun.id}) has begun already: there is "
                             "nothing to stop before", hint=f"`migrator apply {self.path}` "
                             "goes on from there")
        self.check_target()
        started = any(st.status != PENDING for st in states.values())
        if self.options.check_stale and not started:
            self.check_not_stale()
        resuming_at_switch = not stop and stopped_before_switch(self.plan) is not None
        self.plan.record("apply-started")
        if resuming_at_switch:
            self._check_again_before_switch()
        self.save()
        for phase in phases(self.plan.steps):
            failed = reverted_sites(self.plan)
            pending = [s for s in phase if self.plan.state(s.id).status not in (DONE, SKIPPED)
                       and (s.site is None or s.site not in failed)]
            if not pending:
                continue
            action = actions.action(pending[0].action)
            if stop and action.traits.dns_switch:
                self.plan.record(STOPPED_BEFORE_SWITCH, pending[0].id)
                self.save()
                return "stopped before the DNS switch, as asked"
            if self.options.skip_verify and action.traits.check:
                for step in pending:
                    self.plan.state(step.id).status = SKIPPED
                    self.plan.record("skipped", step.id, reason="--skip-verify")
                    self.save()
                    self.reporter.step_finished(step, SKIPPED, 0.0, False)
                continue
            deferred = self._run_phase(pending, action)
            if deferred is not None:
                self.plan.record("deferred", deferred[0].id, reason=deferred[1].message)
                self.save()
                self._raise_if_sites_reverted(later=str(deferred[1]))
                return str(deferred[1])
        self.plan.record("apply-finished")
        self.save()
        self._raise_if_sites_reverted()
        return None

    def _raise_if_sites_reverted(self, later: str | None = None) -> None:
        """A plan for several sites some of which were put back alone ends in an error naming
        them (the others are migrated; `later` says what a later apply still does for them)."""
        failed = reverted_sites(self.plan)
        if not failed:
            return
        done = [d for d in self.plan.domains if d not in failed]
        fix = ("fix each site, then put it on the load balancer with `migrator plan --domain "
               f"SITE --load-balancer {self._load_balancer_name()}`")
        raise SitesRevertedError(
            f"{len(failed)} of {len(self.plan.domains)} sites failed their checks and were put "
            "back as they were: " + "; ".join(f"{d}: {why}" for d, why in failed.items())
            + (f" ({', '.join(done)} migrated)" if done else ""),
            hint=f"{fix}; for the others: {later}" if later else fix, sites=failed)

    def _run_phase(self, steps: list[Step], action: Action) -> tuple[Step, Deferred] | None:
        """Run one step, or the same step of several sites at once (their waits overlap: ACM,
        health checks, Route53's INSYNC); a site whose check fails is put back alone. The first
        deferred step, if any, with its Deferred."""
        outcomes = self._at_once(steps, lambda s: self._run_one(s, action))
        for step, outcome in zip(steps, outcomes, strict=True):
            if isinstance(outcome, VerificationError) and step.site is not None:
                # One site of several: put it back alone; the others go on.
                self._revert_site(step.site, outcome)
        for step, outcome in zip(steps, outcomes, strict=True):
            if isinstance(outcome, VerificationError) and step.site is not None:
                continue
            if isinstance(outcome, MigratorError):
                if isinstance(outcome, VerificationError) and \
                        action.traits.restores_dns_on_failure:
                    self._restore_dns_after_failed_verification()
                raise outcome
        return next(((s, o) for s, o in zip(steps, outcomes, strict=True)
                     if isinstance(o, Deferred)), None)

    def _run_one(self, step: Step, action: Action) -> Deferred | MigratorError | None:
        """A step's outcome, its error included (raised by the caller, once every step of its
        phase has ended)."""
        try:
            return self._run(step, action)
        except MigratorError as exc:
            return exc

    def _site_of(self, step_id: str) -> str | None:
        return next((s.site for s in self.plan.steps if s.id == step_id), None)

    def _load_balancer_name(self) -> str:
        step = next((s for s in self.plan.steps if s.id == "load_balancer"), None)
        return str(step.params.get("Name", "NAME")) if step else "NAME"

    def _revert_site(self, site: str, error: MigratorError) -> None:
        """Undo what was done for one site of a plan for several, newest first (its DNS records
        first), leaving the shared load balancer and the other sites as they are; the site's
        remaining steps will not run."""
        self.reporter.note(f"{site}: {error.message}; putting {site} back as it was, alone")
        self.plan.record("site-reverting", site=site, error=error.message)
        self.save()
        for step in reversed([s for s in self.plan.steps if s.site == site]):
            state = self.plan.state(step.id)
            if state.status in (PENDING, REVERTED):
                continue
            if state.status in (SKIPPED, FAILED) or step.inverse is None:
                state.status, state.reverted_at = REVERTED, now()
                self.save()
                continue
            # The load balancer stays: no need to wait for caches to let go of it.
            self._undo(step, drain=False)
        self.plan.record(SITE_REVERTED, site=site, error=error.message)
        self.save()

    def _check_again_before_switch(self) -> None:
        """Going on after a stop before the switch: the checks just before it (through the
        load balancer) run again, since the load balancer or the origin may have changed while
        the plan waited at the switch."""
        switch = actions.dns_switch(self.plan.steps)
        assert switch is not None
        for step in reversed(self.plan.steps[:self.plan.steps.index(switch)]):
            if not actions.traits(step).check:
                break
            self.plan.state(step.id).status = PENDING
            self.plan.record("checking-again", step.id, reason="going on from the stop before "
                                                                "the DNS switch")

    def _run(self, step: Step, action: Action) -> Deferred | None:
        """Run one step; a Deferred outcome leaves it pending (and is returned)."""
        state = self.plan.state(step.id)
        params = resolve(step.params, self._outputs())
        state.status, state.started_at, state.error = RUNNING, now(), None
        self.plan.record("started", step.id)
        self.save()
        self.reporter.step_started(step, False)
        clock = self.options.clock
        began = clock.monotonic()
        ctx = self._context(step)
        try:
            outcome = action.forward(ctx, params)
        except KeyboardInterrupt:
            self._fail(step, "interrupted by Ctrl-C")
            raise Interrupted(f"interrupted during step {step.id}", hint=self._resume_hint()
                              ) from None
        except MigratorError as exc:
            self._fail(step, str(exc))
            if exc.hint:
                raise
            raise exc.with_hint(self._resume_hint()) from exc.__cause__
        if isinstance(outcome, Deferred):
            if not action.traits.may_defer:
                raise TypeError(f"{action.name} deferred, and its traits do not say it may")
            state.status, state.started_at = PENDING, None
            self.save()
            self.reporter.step_finished(step, PENDING, 0.0, False)
            return outcome
        state.outputs = outcome
        state.status, state.finished_at = DONE, now()
        self.plan.record("done", step.id)
        self.save()
        for text in ctx.notes:
            self.reporter.note(text)
        self.reporter.step_finished(step, DONE, clock.monotonic() - began, False)
        return None

    def _fail(self, step: Step, message: str) -> None:
        state = self.plan.state(step.id)
        state.status, state.error, state.finished_at = FAILED, message, now()
        self.plan.record("failed", step.id, error=message)
        self.save()
        self.reporter.step_finished(step, FAILED, 0.0, False)

    def _resume_hint(self) -> str:
        return (f"the plan's state file records what was done: `migrator apply {self.path}` "
                f"resumes, `migrator rollback {self.path}` undoes it")

    def _restore_dns_after_failed_verification(self) -> None:
        switch = actions.dns_switch(self.plan.steps)
        if switch is None or self.plan.state(switch.id).status != DONE:
            return
        self.reporter.note("verification failed after the DNS switch: restoring the original "
                           "records")
        # The load balancer stays, so there is no need to wait for caches to let go of it.
        self._undo(switch, drain=False)
        # The switch is undone; a later apply will switch again after its checks.
        self.plan.state(switch.id).status = PENDING
        self.plan.record("dns-restored-after-failed-verification", switch.id)
        self.save()

    # --- rollback -------------------------------------------------------------------------------

    def check_load_balancer_unused(self) -> None:
        """A plan that created a load balancer must not delete it while other plans have
        sites on it (they tag it `migrator:site:<plan id>`)."""
        step = next((s for s in self.plan.steps if s.id == "load_balancer"), None)
        if step is None or self.plan.state(step.id).status in (PENDING, REVERTED):
            return
        arn = self.plan.state(step.id).outputs.get("arn")
        if not arn:
            return
        try:
            tags = self.aws.elbv2.tags([arn]).get(arn, {})
        except AwsNotFoundError:
            return  # deleted already (a rollback interrupted while deleting it)
        others = [p for p in joined_plans(tags) if p != self.plan.id]
        if others:
            raise SharedLoadBalancerInUseError(
                f"load balancer {step.params.get('Name', arn)} still serves the sites of "
                f"plan(s) {', '.join(others)}: rolling this plan back would delete it under them",
                hint=f"roll back {', '.join(others)} first (`migrator rollback PLAN`), "
                     "then this one")

    def rollback(self) -> None:
        self.check_target()
        self.check_load_balancer_unused()
        self.plan.record("rollback-started")
        self.save()
        # Several sites' records go back (at once), and resolvers are given the DNS drain once,
        # after the last of them, before anything they might still reach goes.
        several = len(self.plan.snapshots) > 1
        drain_owed = False
        for phase in phases(list(reversed(self.plan.steps))):
            undo: list[Step] = []
            for step in phase:
                state = self.plan.state(step.id)
                if state.status in (PENDING, REVERTED):
                    continue
                if state.status == SKIPPED or step.inverse is None:
                    state.status, state.reverted_at = REVERTED, now()
                    self.save()
                    continue
                undo.append(step)
            if not undo:
                continue
            switch = several and actions.traits(undo[0]).dns_switch
            if drain_owed and not switch:
                self.reporter.note(f"every site's records are back: waiting "
                                   f"{self.options.dns_drain_seconds:g} s for resolvers to let "
                                   "go of the load balancer's answers")
                self.options.clock.sleep(self.options.dns_drain_seconds)
                drain_owed = False
            self._undo_phase(undo, drain=not switch)
            drain_owed = drain_owed or switch
        self.plan.record("rollback-finished")
        self.save()

    def _undo_phase(self, steps: list[Step], *, drain: bool) -> None:
        """Undo one step, or the same step of several sites at once; the first error is
        raised once every one of them has ended."""
        def undo(step: Step) -> MigratorError | None:
            try:
                self._undo(step, drain=drain)
            except MigratorError as exc:
                return exc
            return None

        errors = [e for e in self._at_once(steps, undo) if e is not None]
        if errors:
            raise errors[0]

    def _at_once(self, steps: list[Step], run: Callable[[Step], T]) -> list[T]:
        """run(step) for each step, in threads when there are several (each site's), with a
        reporter that says one thing at a time; the results in the steps' order."""
        if len(steps) == 1:
            return [run(steps[0])]
        alone, self.reporter = self.reporter, _Together(self.reporter)
        try:
            with ThreadPoolExecutor(max_workers=min(len(steps), PARALLEL_SITES)) as pool:
                return list(pool.map(run, steps))
        finally:
            self.reporter = alone

    def _undo(self, step: Step, *, drain: bool = True) -> None:
        assert step.inverse is not None
        state = self.plan.state(step.id)
        params = resolve(step.inverse.params, self._outputs(), lenient=True)
        clock = self.options.clock
        fresh = 0.0 if state.status == REVERTING else _visibility_left(state.finished_at,
                                                                         clock.now())
        state.status = REVERTING
        self.plan.record("reverting", step.id)
        self.save()
        self.reporter.step_started(step, True)
        began = clock.monotonic()
        ctx = self._context(step, drain=drain, fresh_seconds=fresh)
        try:
            actions.undo(step.inverse.action).run(ctx, params)
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted while undoing {step.id}",
                              hint=f"run `migrator rollback {self.path}` again") from None
        except MigratorError as exc:
            state.error = str(exc)
            self.plan.record("revert-failed", step.id, error=str(exc))
            self.save()
            self.reporter.step_finished(step, FAILED, 0.0, True)
            if exc.hint:
                raise
            raise exc.with_hint(f"fix the cause, then run `migrator rollback {self.path}` again"
                                ) from exc.__cause__
        state.status, state.reverted_at, state.error = REVERTED, now(), None
        self.plan.record("reverted", step.id)
        self.save()
        for text in ctx.notes:
            self.reporter.note(text)
        self.reporter.step_finished(step, REVERTED, clock.monotonic() - began, True)


SITE_REVERTED = "site-reverted"
# How many sites of a plan run the same step at once (AWS throttles bursts beyond that;
# botocore's standard retry mode absorbs what remains).
PARALLEL_SITES = 16


def phases(steps: Sequence[Step]) -> list[list[Step]]:
    """The plan's steps in the order they run: one by one, except that consecutive steps of
    different sites doing the same thing (`target_healthy@a`, `target_healthy@b`) run at once."""
    grouped: list[list[Step]] = []
    for step in steps:
        last = grouped[-1] if grouped else None
        if (last and step.site is not None and last[0].site is not None
                and base_step_id(step.id) == base_step_id(last[0].id)
                and step.site not in {s.site for s in last}):
            last.append(step)
        else:
            grouped.append([step])
    return grouped


def reverted_sites(plan: Plan) -> dict[str, str]:
    """The sites of a plan for several that were put back alone, and why."""
    return {e["site"]: e.get("error", "") for e in plan.journal
            if e.get("event") == SITE_REVERTED and e.get("site")}


def load_balancer_differences(snap: Snapshot, live: Any) -> list[str]:
    """What changed on the load balancer a site is to join, that the plan relied on."""
    planned = snap.load_balancer
    assert planned is not None
    diffs = []
    if live.https_listener_arn != planned.https_listener_arn:
        diffs.append(f"{planned.name}'s HTTPS:443 listener is now "
                     f"{live.https_listener_arn or 'gone'}, not "
                     f"{planned.https_listener_arn or 'absent'}")
    if live.http_listener_arn != planned.http_listener_arn or \
            live.http_redirects != planned.http_redirects:
        diffs.append(f"{planned.name}'s HTTP:80 listener changed")
    if live.subnets != planned.subnets:
        diffs.append(f"{planned.name}'s subnets are now {', '.join(live.subnet_ids)}")
    if live.security_group_ids != planned.security_group_ids:
        diffs.append(f"{planned.name}'s security groups are now "
                     f"{', '.join(live.security_group_ids)}")
    for name in snap.names:
        rule = live.rule_for_host(name)
        if rule is not None:
            diffs.append(f"{name} is now routed by rule {rule.priority} of {planned.name}")
    return diffs


def _visibility_left(finished_at: str | None, at: datetime) -> float:
    """How much longer, from `at`, a resource created by a step that finished at finished_at
    may still be invisible to part of AWS (so that "not found" does not yet mean it is gone)."""
    if not finished_at:
        return 0.0
    try:
        finished = datetime.strptime(finished_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return 0.0
    return max(0.0, FRESH_UNDO_WINDOW - (at - finished).total_seconds())


def snapshot_differences(planned: Snapshot, live: Snapshot) -> list[str]:
    """What differs between the plan's snapshot and the live one, in words."""
    diffs = []
    if planned.zone.id != live.zone.id:
        diffs.append(f"hosted zone {planned.zone.id} is now {live.zone.id}")
    before = {(r.name, r.type): r for r in planned.records}
    after = {(r.name, r.type): r for r in live.records}
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old is None:
            diffs.append(f"{key[0]} {key[1]} was added")
        elif new is None:
            diffs.append(f"{key[0]} {key[1]} was removed")
        elif (old.ttl, old.values, old.alias) != (new.ttl, new.values, new.alias):
            diffs.append(f"{key[0]} {key[1]} is now {_describe(new)} (was {_describe(old)})")
    if planned.instance.id != live.instance.id:
        diffs.append(f"the site is now served by {live.instance.id}, not {planned.instance.id}")
    elif planned.instance.state != live.instance.state:
        diffs.append(f"instance {live.instance.id} is now {live.instance.state}, not "
                     f"{planned.instance.state}")
    elif planned.instance.security_group_ids != live.instance.security_group_ids:
        diffs.append(f"instance security groups are now "
                     f"{', '.join(live.instance.security_group_ids)}")
    elif planned.instance.interfaces and planned.instance.interfaces != live.instance.interfaces:
        diffs.append("the instance's network interfaces or their groups changed")
    planned_groups = {g.id: g.ingress for g in planned.security_groups}
    for group in live.security_groups:
        if group.id in planned_groups and planned_groups[group.id] != group.ingress:
            diffs.append(f"the rules of security group {group.id} changed")
    return diffs


def _describe(record: Any) -> str:
    if record.alias:
        return f"alias {record.alias.get('DNSName', '?')}"
    return f"{', '.join(record.values)} TTL {record.ttl}"

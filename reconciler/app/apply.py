"""The apply use case: load (the refresh already reading) -> plan (or a saved plan, checked fresh)
-> confirm -> execute (uploads, jobs, waiting, checks, retiring) -> an ApplyReport.

With --wait, jobs an earlier apply left training are followed alongside the new work; once
they end, a second round plans and carries out what they unlock (verifying what they trained,
{ref:} children, retiring). Every step comes from the planner.

Never prints: progress goes to the injected Reporter, the summary is rendered by the CLI.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler import planfile
from reconciler.app import project
from reconciler.app.evaluate import bound_gate
from reconciler.app.hosting import with_hosting, with_monthly_cost
from reconciler.app.limits import (
    AZURE_LIMITS,
    ResourceLimits,
    ResourceUsage,
    concurrent_gates,
    limit_notes,
)
from reconciler.app.refreshing import OpenRemote, load_refreshing
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import Diagnostics, has_errors, sorted_diagnostics
from reconciler.events import CheckResult, Reporter, StepResult, StepStatus
from reconciler.executor import ExecOptions, execute
from reconciler.observe import Refresh, observe
from reconciler.plan import NoChange, Plan, PlanOptions, Reason, VerifyModel
from reconciler.planner import plan as make_plan
from reconciler.planner.state import RemoteState, build_state
from reconciler.snapshot import RemoteJob, Snapshot
from reconciler.spec import Desired
from reconciler.timestamps import utc_date
from reconciler.waiting import DEFAULT_POLL_INTERVAL


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    """`ftctl apply` flags. concurrency None: the project's setting."""

    planfile: str | None = None
    auto_approve: bool = False
    wait: bool = True
    targets: tuple[str, ...] = ()
    concurrency: int | None = None
    retry_failed: bool = False
    poll_interval: float = DEFAULT_POLL_INTERVAL
    max_monthly_cost: float | None = None  # USD: refuse a plan raising hosting by more


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyReport:
    """What apply did. approved False: the user (or a missing terminal) declined the plan."""

    plan: Plan | None = None
    results: tuple[StepResult, ...] = ()
    checks: tuple[CheckResult, ...] = ()
    jobs: tuple[RemoteJob, ...] = ()
    diagnostics: Diagnostics = ()
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    approved: bool = True
    interrupted: bool = False

    def count(self, status: StepStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return (
            self.approved
            and not self.interrupted
            and not has_errors(self.diagnostics)
            and self.count(StepStatus.FAILED) == 0
            and all(c.passed for c in self.checks)
        )

    @property
    def in_flight(self) -> tuple[RemoteJob, ...]:
        """Jobs still training when apply returned (--no-wait, or interrupted)."""
        return tuple(j for j in self.jobs if not j.status.is_terminal)


def run_apply(
    directory: str,
    config: str | None,
    options: ApplyOptions,
    *,
    open_remote: OpenRemote,
    reporter: Reporter,
    confirm: Callable[[Plan], bool] | None = None,
    announce: Callable[[Plan], None] | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    limits: ResourceLimits = AZURE_LIMITS,
) -> ApplyReport:
    """Carry out the project's plan. confirm is asked unless options.auto_approve, in which
    case announce (when given) is shown the plan instead. limits: Azure's per-resource limits
    (tests shrink them with the emulator's)."""
    with load_refreshing(directory, config, open_remote=open_remote,
                         with_datasets=options.planfile is None) as started:
        loaded = started.result
        if started.remote is None:
            return ApplyReport(diagnostics=loaded.diagnostics, sources=loaded.sources)
        desired, api, refresh = started.remote
        run = _Session(api, desired, options, reporter, clock=clock, sleep=sleep)
        run.first_refresh = refresh
        run.announce = announce
        run.sources = loaded.sources
        run.limits = limits
        report = run.apply(confirm)
    return dataclasses.replace(
        report, diagnostics=(*loaded.diagnostics, *report.diagnostics), sources=loaded.sources
    )


class _Session:
    """One apply against an open remote."""

    def __init__(self, api: RemoteApi, desired: Desired, options: ApplyOptions,
                 reporter: Reporter, *, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        self.api, self.desired, self.options, self.reporter = api, desired, options, reporter
        self.clock, self.sleep = clock, sleep
        self.announce: Callable[[Plan], None] | None = None
        self.first_refresh: Refresh | None = None  # started while the project was loading
        self.snapshot: Snapshot | None = None  # what the latest plan rests on
        self.state: RemoteState | None = None  # the model state of that snapshot
        self.sources: Mapping[str, str] = {}
        self.limits = AZURE_LIMITS

    def apply(self, confirm: Callable[[Plan], bool] | None) -> ApplyReport:
        plan, _ = self._plan()
        follow = self._to_follow(plan)
        report = self._round(plan, confirm, follow=follow)
        if report.interrupted or not report.approved or not follow:
            return report
        # Jobs an earlier apply left training have ended: what they unlock (verifying them,
        # {ref:} children, retiring older versions once checks passed) is planned now.
        plan, _ = self._plan()
        more = self._round(plan, confirm, follow={})
        return _merge(report, more)

    def _round(self, plan: Plan, confirm: Callable[[Plan], bool] | None,
               *, follow: Mapping[str, str]) -> ApplyReport:
        done = ApplyReport(plan=plan, diagnostics=plan.notes)
        if plan.has_errors or (not plan.changes and not follow):
            return done
        if plan.changes and self.options.auto_approve and self.announce is not None:
            self.announce(plan)
        if plan.changes and not self.options.auto_approve and (
            confirm is None or not confirm(plan)
        ):
            return dataclasses.replace(done, approved=False)
        if follow:
            self.reporter.message(f"Following {len(follow)} job(s) already in progress.")
        execution = execute(plan, self.api, self.reporter, ExecOptions(
            root=self.desired.settings.root,
            concurrency=self.options.concurrency or self.desired.settings.concurrency,
            wait=self.options.wait,
            poll_interval=self.options.poll_interval,
        ), verify=self._verify, follow=follow, clock=self.clock, sleep=self.sleep)
        return dataclasses.replace(
            done, results=execution.results, checks=execution.checks,
            jobs=execution.jobs, interrupted=execution.interrupted,
        )

    def _to_follow(self, plan: Plan) -> dict[str, str]:
        """{job id: name} of the jobs the plan reports in progress (only with --wait, and
        never for a saved plan, which is carried out exactly as reviewed)."""
        if self.options.planfile is not None or not self.options.wait:
            return {}
        return {
            s.payload.job_id: s.name
            for s in plan.steps
            if s.reason is Reason.IN_PROGRESS and isinstance(s.payload, NoChange)
            and s.payload.job_id
        }

    def _verify(self, request: VerifyModel) -> tuple[CheckResult, ...]:
        """The gate of a trained version, against the model state the plan rests on (the
        version serving when the step was planned is what the candidate is compared with)."""
        if self.state is None:
            assert self.snapshot is not None  # set by _plan before anything runs
            self.state = build_state(self.desired, self.snapshot)
        return bound_gate(self.api, self.desired, self.state, request, reporter=self.reporter)

    def _plan(self) -> tuple[Plan, Snapshot]:
        """A fresh plan, or the saved one checked fresh, and the snapshot it rests on; with
        the guardrails' notes (an error among them stops apply before any write)."""
        first, self.first_refresh = self.first_refresh, None
        snapshot = first.snapshot(self.desired) if first else observe(self.api, self.desired)
        self.snapshot, self.state = snapshot, None
        if self.options.planfile is not None:
            saved = _saved_plan(self.options.planfile, snapshot)
            changed = project.manifests_changed(saved.extra, self.sources)
            if changed is not None:
                saved = dataclasses.replace(saved, notes=(*saved.notes, changed))
            return with_monthly_cost(saved, self.options.max_monthly_cost), snapshot
        today = utc_date(self.clock())
        plan = make_plan(self.desired, snapshot, PlanOptions(
            targets=self.options.targets, retry_failed=self.options.retry_failed,
            commit=git_commit(self.desired.settings.root), today=today,
        ))
        plan = with_hosting(plan, self.desired, snapshot)
        plan = self._within_limits(plan)
        return with_monthly_cost(plan, self.options.max_monthly_cost), snapshot

    def _within_limits(self, plan: Plan) -> Plan:
        """A fresh plan with Azure's per-resource limits checked, as `plan` checks them (a
        saved plan was checked when it was made)."""
        if not self.desired.settings.provider.speaks_azure or not plan.changes:
            return plan
        usage = ResourceUsage()
        usage.read(self.api)
        gates = concurrent_gates(plan, self.desired, self.options.concurrency)
        extra = limit_notes(plan, usage, self.limits, gates=gates)
        if not extra:
            return plan
        return dataclasses.replace(plan, notes=sorted_diagnostics((*plan.notes, *extra)))


def _merge(first: ApplyReport, second: ApplyReport) -> ApplyReport:
    """One report for two rounds of one apply."""
    plan = second.plan if second.plan is not None and second.plan.changes else first.plan
    return dataclasses.replace(
        second, plan=plan, results=(*first.results, *second.results),
        checks=(*first.checks, *second.checks), jobs=(*first.jobs, *second.jobs),
    )


def _saved_plan(path: str, snapshot: Snapshot) -> Plan:
    """A plan saved by `plan --out`, refused when the remote moved since (StalePlanError)."""
    plan = planfile.load(path)
    planfile.ensure_fresh(plan, snapshot)
    return plan


def git_commit(root: str) -> str | None:
    """The project's HEAD commit, for the `ftctl-commit` metadata; None outside git."""
    try:
        done = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


"""The apply use case: load -> open remote -> observe -> plan (or a saved plan, checked fresh)
-> confirm -> execute (uploads, jobs, waiting, checks, retiring) -> an ApplyReport.

Never prints: progress goes to the injected Reporter, the summary is rendered by the CLI.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from reconciler import planfile
from reconciler.app import project
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import Diagnostics, has_errors
from reconciler.events import CheckResult, Reporter, StepResult, StepStatus
from reconciler.executor import ExecOptions, execute
from reconciler.observe import observe
from reconciler.plan import Plan, PlanOptions
from reconciler.planner import plan as make_plan
from reconciler.snapshot import RemoteJob, Snapshot
from reconciler.spec import Settings
from reconciler.waiting import DEFAULT_POLL_INTERVAL

OpenRemote = Callable[[Settings], AbstractContextManager[RemoteApi]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyOptions:
    """DESIGN §9 `apply` flags. concurrency None: the project's setting."""

    planfile: str | None = None
    auto_approve: bool = False
    wait: bool = True
    targets: tuple[str, ...] = ()
    concurrency: int | None = None
    retry_failed: bool = False
    poll_interval: float = DEFAULT_POLL_INTERVAL


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
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyReport:
    """Carry out the project's plan. confirm is asked unless options.auto_approve."""
    loaded = project.load(directory, config, with_datasets=options.planfile is None)
    if loaded.desired is None or has_errors(loaded.diagnostics):
        return ApplyReport(diagnostics=loaded.diagnostics, sources=loaded.sources)
    desired = loaded.desired
    settings = desired.settings
    with open_remote(settings) as api:
        snapshot = observe(api, desired)
        if options.planfile is not None:
            plan = _saved_plan(options.planfile, snapshot)
        else:
            today = datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%d")
            plan = make_plan(desired, snapshot, PlanOptions(
                targets=options.targets, retry_failed=options.retry_failed,
                commit=git_commit(settings.root), today=today,
            ))
        notes = (*loaded.diagnostics, *plan.notes)
        if plan.has_errors or not plan.changes:
            return ApplyReport(plan=plan, diagnostics=notes, sources=loaded.sources)
        if not options.auto_approve and (confirm is None or not confirm(plan)):
            return ApplyReport(plan=plan, diagnostics=notes, sources=loaded.sources,
                               approved=False)
        execution = execute(plan, api, reporter, ExecOptions(
            root=settings.root,
            concurrency=options.concurrency or settings.concurrency,
            wait=options.wait,
            poll_interval=options.poll_interval,
        ), clock=clock, sleep=sleep)
    return ApplyReport(
        plan=plan,
        results=execution.results,
        checks=execution.checks,
        jobs=execution.jobs,
        diagnostics=notes,
        sources=loaded.sources,
        interrupted=execution.interrupted,
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


"""The plan and drift use cases: load (the refresh reading meanwhile) -> plan (or drift).

Never prints: returns the Plan / DriftReport with the diagnostics, and the CLI renders them.
`run_plan` saves the plan when asked (`plan --out`), and only a plan without errors.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from reconciler import planfile
from reconciler.app import project
from reconciler.app.apply import git_commit
from reconciler.app.evaluate import with_eval_drift, with_eval_notes
from reconciler.app.hosting import with_hosting
from reconciler.app.refreshing import OpenRemote, load_refreshing
from reconciler.diagnostics import Diagnostics, has_errors, sorted_diagnostics
from reconciler.plan import DriftReport, Plan, PlanOptions
from reconciler.planner import drift, plan
from reconciler.planner.compare import manifest_specs
from reconciler.planner.state import build_state
from reconciler.snapshot import Snapshot
from reconciler.spec import Desired
from reconciler.timestamps import utc_date


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRunOptions:
    """`ftctl plan` flags (format and exit codes are the CLI's)."""

    targets: tuple[str, ...] = ()
    retry_failed: bool = False
    out: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRun:
    """plan is None when the project could not be loaded (diagnostics say why).

    The plan's notes already include the load warnings, so renderers show them too.
    """

    plan: Plan | None = None
    diagnostics: Diagnostics = ()
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    snapshot: Snapshot | None = None
    saved_to: str | None = None
    desired: Desired | None = None  # what the plan was made from (for the guardrails)

    @property
    def ok(self) -> bool:
        return self.plan is not None and not has_errors(self.diagnostics)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftRun:
    report: DriftReport | None = None
    diagnostics: Diagnostics = ()
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return self.report is not None and not has_errors(self.diagnostics)


def today_of(clock: Callable[[], float]) -> str:
    """The UTC date (YYYY-MM-DD) for retirement warnings; the planner reads no clock itself."""
    return utc_date(clock())


@project.collector_paused()  # 20,000 jobs read and planned over: see collector_paused
def run_plan(
    directory: str,
    config: str | None = None,
    options: PlanRunOptions | None = None,
    *,
    open_remote: OpenRemote,
    clock: Callable[[], float] = time.time,
) -> PlanRun:
    """Plan the project in `directory` against its remote."""
    options = options or PlanRunOptions()
    with load_refreshing(directory, config, open_remote=open_remote,
                         with_datasets=True) as started:
        loaded = started.result
        if started.remote is None:
            return PlanRun(diagnostics=loaded.diagnostics, sources=loaded.sources)
        desired, _, refresh = started.remote
        # Each manifest's `ftctl-spec` is computed while the last pages are still coming.
        specs = manifest_specs(desired)
        snapshot = refresh.snapshot(desired)
    made = plan(desired, snapshot, specs=specs, options=PlanOptions(
        targets=options.targets,
        retry_failed=options.retry_failed,
        commit=git_commit(desired.settings.root),
        today=today_of(clock),
    ))
    made = with_eval_notes(made, desired)  # eval set size and inference cost per retrain
    made = with_hosting(made, desired, snapshot)  # each deployment step's monthly change
    notes = sorted_diagnostics((*loaded.diagnostics, *made.notes))
    made = dataclasses.replace(made, notes=notes)
    saved = None
    if options.out and not made.has_errors:
        made = dataclasses.replace(made, extra=(
            *made.extra, (project.MANIFESTS_KEY, project.manifests_digest(loaded.sources))))
        planfile.save(made, options.out)
        saved = options.out
    return PlanRun(plan=made, diagnostics=notes, sources=loaded.sources, snapshot=snapshot,
                   saved_to=saved, desired=desired)


def run_drift(
    directory: str,
    config: str | None = None,
    *,
    open_remote: OpenRemote,
    clock: Callable[[], float] = time.time,
) -> DriftRun:
    """Compare the remote with the manifests: what moved away from git."""
    # Drift needs names, references and base models only: dataset contents are not read.
    with load_refreshing(directory, config, open_remote=open_remote,
                         with_datasets=False) as started:
        loaded = started.result
        if started.remote is None:
            return DriftRun(diagnostics=loaded.diagnostics, sources=loaded.sources)
        desired, api, refresh = started.remote
        snapshot = refresh.snapshot(desired)
        report = drift(desired, snapshot, today=today_of(clock))
        # Serving versions whose recorded metrics (verdict files) are under a promote.min.
        report = with_eval_drift(report, desired, build_state(desired, snapshot),
                                 api.read_file_json)
    notes = sorted_diagnostics((*loaded.diagnostics, *report.notes))
    report = dataclasses.replace(report, notes=notes)
    return DriftRun(report=report, diagnostics=notes, sources=loaded.sources)

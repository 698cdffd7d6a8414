"""Policy hooks on a finished plan: the `plan --max-cost USD` cost guardrail, and Azure
OpenAI's per-resource limits (files, their total size, training jobs).

A plan above a limit gets an error note, so every renderer shows why, `Plan.has_errors` makes
the command exit 1, and the plan cannot be applied. Costs are the planner's estimates (tokens x
the price table); models without a price cannot be counted, which is said in a warning rather
than guessed. Never prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass

from reconciler.app.plan import OpenRemote, PlanRun
from reconciler.client.api import RemoteApi
from reconciler.client.azure import AzureApi
from reconciler.client.fallback_identity import records_per_create
from reconciler.diagnostics import Diagnostic, Diagnostics, error, sorted_diagnostics, warning
from reconciler.plan import CreateJob, Plan, UploadFile
from reconciler.render import planview
from reconciler.spec import Settings

MAX_COST_CODE = "max_cost_exceeded"


def plan_cost(plan: Plan) -> tuple[float, tuple[str, ...]]:
    """(estimated cost in USD of what the plan trains, names whose cost is unknown)."""
    view = planview.build(plan)
    return view.total_cost, view.unpriced


def max_cost_notes(plan: Plan, max_cost: float) -> Diagnostics:
    """The guardrail's verdict on `plan`: an error above the limit, a warning for unpriced."""
    cost, unpriced = plan_cost(plan)
    notes: list[Diagnostic] = []
    if cost > max_cost:
        notes.append(error(
            f"estimated training cost ${cost:,.2f} is above --max-cost ${max_cost:,.2f}",
            "Lower the cost (fewer epochs, a smaller dataset, or --target for fewer models), "
            "or raise the limit on purpose in a reviewed change.",
            code=MAX_COST_CODE,
        ))
    if unpriced:
        notes.append(warning(
            f"--max-cost cannot count {', '.join(unpriced)}: no price for the base model",
            "Add the base model to `prices` in ftctl.yaml so the guardrail sees its cost.",
            code="max_cost_unpriced",
        ))
    return tuple(notes)


def with_max_cost(plan: Plan, max_cost: float) -> Plan:
    """`plan` with the guardrail's notes added (unchanged when within the limit and priced)."""
    extra = max_cost_notes(plan, max_cost)
    if not extra:
        return plan
    return dataclasses.replace(plan, notes=sorted_diagnostics((*plan.notes, *extra)))


def enforce_max_cost(run: PlanRun, max_cost: float | None) -> PlanRun:
    """Apply the guardrail to a plan run. A plan that fails it is not kept as a saved plan.

    run_plan saves before the CLI sees the plan; a file for a plan that must not be applied
    would only invite `ftctl apply FILE`, so it is removed again.
    """
    if max_cost is None or run.plan is None:
        return run
    return _with_notes(run, max_cost_notes(run.plan, max_cost))


def _with_notes(run: PlanRun, extra: Diagnostics) -> PlanRun:
    """`run` with a guardrail's notes; a plan they fail is not kept as a saved plan."""
    if run.plan is None or not extra:
        return run
    guarded = dataclasses.replace(run.plan, notes=sorted_diagnostics((*run.plan.notes, *extra)))
    saved = run.saved_to
    if guarded.has_errors and saved is not None:
        if os.path.exists(saved):
            os.remove(saved)
        saved = None
    return dataclasses.replace(run, plan=guarded, diagnostics=guarded.notes, saved_to=saved)


# -- Azure OpenAI's per-resource limits ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """Azure OpenAI's documented fine-tuning quotas per resource (its quotas-and-limits page);
    they count every workspace's files and jobs on the resource, not only this project's."""

    files: int = 100
    file_bytes: int = 1024**3  # "1 GB" of fine-tune files in all
    training_jobs: int = 100  # whatever their status


AZURE_LIMITS = ResourceLimits()
LIMIT_CODE = "azure_limit_exceeded"


@dataclass(slots=True)
class ResourceUsage:
    """What counts against the limits, read while the plan's connection is open (observed is
    False until then, and for providers without such limits)."""

    observed: bool = False
    files: int = 0
    file_bytes: int = 0
    jobs: int = 0
    records_per_create: int = 0

    def read(self, api: RemoteApi) -> None:
        """Every fine-tune file (identity records included) and every job of the resource."""
        files = api.list_files("fine-tune")
        self.files, self.file_bytes = len(files), sum(f.bytes for f in files)
        self.jobs = len(api.list_jobs())  # no metadata filter: all workspaces' jobs
        kept = api.metadata_kept if isinstance(api, AzureApi) else None
        self.records_per_create = records_per_create(kept)
        self.observed = True


def reading_usage(open_remote: OpenRemote, usage: ResourceUsage) -> OpenRemote:
    """open_remote that, for Azure, also reads `usage` before the connection closes (after the
    plan observed the remote, before anything could be written)."""

    @contextlib.contextmanager
    def opened(settings: Settings) -> Iterator[RemoteApi]:
        with open_remote(settings) as api:
            yield api
            if settings.provider.speaks_azure:
                usage.read(api)

    return opened


def limit_notes(plan: Plan, usage: ResourceUsage,
                limits: ResourceLimits = AZURE_LIMITS) -> Diagnostics:
    """One error per limit the resource would pass if the plan were applied."""
    uploads = [s.payload for s in plan.changes if isinstance(s.payload, UploadFile)]
    creates = sum(isinstance(s.payload, CreateJob) for s in plan.changes)
    records = creates * usage.records_per_create
    files = usage.files + len(uploads) + records
    size = usage.file_bytes + sum(u.bytes for u in uploads)
    jobs = usage.jobs + creates
    hint = ("Delete fine-tune files or jobs the resource no longer needs (any workspace's: "
            "the limit is the resource's), use another resource, or plan fewer models with "
            "--target.")
    notes: list[Diagnostic] = []
    if files > limits.files:
        notes.append(error(
            f"the plan would leave {files} fine-tune files on the Azure OpenAI resource, over "
            f"its limit of {limits.files} ({usage.files} there, {len(uploads)} to upload, up "
            f"to {records} identity records for the new jobs)", hint, code=LIMIT_CODE))
    if size > limits.file_bytes:
        notes.append(error(
            f"the plan would leave {_size(size)} of fine-tune files on the Azure OpenAI "
            f"resource, over its limit of {_size(limits.file_bytes)} ({_size(usage.file_bytes)} "
            f"there, {_size(size - usage.file_bytes)} to upload)", hint, code=LIMIT_CODE))
    if jobs > limits.training_jobs:
        notes.append(error(
            f"the plan would leave {jobs} training jobs on the Azure OpenAI resource, over its "
            f"limit of {limits.training_jobs} ({usage.jobs} there, {creates} to create)",
            hint, code=LIMIT_CODE))
    return tuple(notes)


def enforce_resource_limits(run: PlanRun, usage: ResourceUsage,
                            limits: ResourceLimits = AZURE_LIMITS) -> PlanRun:
    """The limits' verdict added to a plan run (unchanged when not Azure or within them)."""
    if run.plan is None or not usage.observed:
        return run
    return _with_notes(run, limit_notes(run.plan, usage, limits))


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"

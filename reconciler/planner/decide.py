"""The planner: (desired manifests, remote snapshot, options) -> Plan, per DESIGN §4.

A pure, deterministic function: no disk, network, clock, environment or randomness (the
caller passes `today` in), so the same inputs give a byte-identical plan. Models are planned
parents first so a `{ref:}` child sees what its parent will do. Version bookkeeping and
job-vs-manifest comparison live in planner_versions, step construction in planner_steps,
orphans/--target/totals in planner_scope, drift in planner_drift.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler import diagnostics as diag
from reconciler.basemodels import ProviderModels, provider_check
from reconciler.diagnostics import Severity
from reconciler.plan import (
    UNKNOWN,
    Action,
    CreateJob,
    FieldChange,
    FromStep,
    Plan,
    PlanOptions,
    Reason,
    Step,
)
from reconciler.planner.compare import (
    Comparison,
    Versions,
    compare,
    file_shas,
    managed_jobs_by_name,
    manifest_index,
    spec_of,
    version_of,
    versions_for,
)
from reconciler.planner.drift import drift
from reconciler.planner.identity import job_metadata, operation_id
from reconciler.planner.identity import state_fingerprint as _state_fingerprint
from reconciler.planner.scope import (
    cut_to_targets,
    method_json,
    plan_orphans,
    ref_order,
    retirement_notes,
    total_estimate,
)
from reconciler.planner.steps import (
    Ctx,
    cancel,
    estimate_for,
    eta,
    file_ref,
    noop,
    retire,
    retire_settled,
    usable_files,
)
from reconciler.snapshot import JobStatus, RemoteJob, Snapshot
from reconciler.spec import Desired, Manifest, ParentRef, UpdatePolicy

__all__ = ["PlanOptions", "drift", "plan"]

_MODEL_FIELD = "fine_tuned_model"  # the result field a {ref:} child reads from its parent's step


def plan(desired: Desired, snapshot: Snapshot, options: PlanOptions | None = None) -> Plan:
    """What apply would do to bring `snapshot` in line with `desired`."""
    options = options or PlanOptions()
    ctx = Ctx(
        desired=desired,
        snapshot=snapshot,
        options=options,
        groups=managed_jobs_by_name(snapshot),
        file_sha=file_shas(snapshot),
        remote_files=usable_files(snapshot),
        model_ids=frozenset(m.id for m in snapshot.models),
        index=manifest_index(desired),
    )
    order, cyclic = ref_order(desired)
    for name in cyclic:
        ctx.note(Severity.ERROR, name, f"{name}: model {{ref:}} chain forms a cycle",
                 "A model cannot be built on itself; fix the spec.model references.")
    provider_models = ProviderModels.of(snapshot.models)
    for name in order:
        manifest = ctx.index.get(name)
        if manifest is not None:
            _plan_model(ctx, manifest, provider_models)
    plan_orphans(desired, snapshot, ctx.groups, ctx.steps, ctx.notes)
    if options.today:
        ctx.notes.extend(retirement_notes(desired, snapshot, options.today, ctx.index))
    steps, notes = cut_to_targets(desired, ctx.groups, options.targets, ctx.steps, ctx.notes)
    return Plan(
        workspace=desired.settings.workspace,
        snapshot_fingerprint=_state_fingerprint(snapshot),
        steps=tuple(steps),
        notes=diag.sorted_diagnostics(notes),
        total_estimate=total_estimate(steps),
        targets=tuple(sorted(set(options.targets))),
    )


# --- one model ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class _Model:
    """What is known about one manifest while planning it."""

    manifest: Manifest
    versions: Versions
    spec: str  # ftctl-spec of the manifest as it is now
    parent_value: object  # for comparison: parent model id, UNKNOWN, or None (not a {ref:})
    parent_payload: str | FromStep | None

    @property
    def name(self) -> str:
        return self.manifest.name

    def compare(self, ctx: Ctx, job: RemoteJob) -> Comparison:
        # A continued version's model is this name's previous model: compare its root instead.
        rooted = dataclasses.replace(job, model=self.versions.lineage_root(job))
        return compare(self.manifest, rooted, spec=self.spec, datasets=ctx.desired.datasets,
                       file_sha=ctx.file_sha, parent_model=self.parent_value)


def _plan_model(ctx: Ctx, manifest: Manifest, provider_models: ProviderModels) -> None:
    name = manifest.name
    versions = versions_for(name, manifest, ctx.groups, ctx.snapshot, model_ids=ctx.model_ids)
    current = versions.current
    ctx.outcome[name] = current.fine_tuned_model if current else None
    missing_base = provider_check(manifest, provider_models)
    if missing_base is not None:
        # Apply would only fail with HTTP 400: plan nothing for it (certainly no retiring).
        ctx.notes.append(missing_base)
        noop(ctx, name, Reason.BLOCKED, current)
        return
    adopt = manifest.spec.adopt
    if adopt and not versions.jobs:
        ctx.note(Severity.ERROR, name, f"{name}: adopted job {adopt} was not found",
                 "spec.adopt must name an existing fine-tuning job of this organization.")
        noop(ctx, name, Reason.BLOCKED, None)
        return
    parent = _parent(ctx, manifest)
    if parent is None:
        noop(ctx, name, Reason.BLOCKED, current)
        return
    model = _Model(
        manifest=manifest,
        versions=versions,
        spec=spec_of(manifest, ctx.desired.datasets),
        parent_value=parent[0],
        parent_payload=parent[1],
    )
    if versions.in_flight:
        _plan_in_flight(ctx, model)
    else:
        _plan_settled(ctx, model)


def _parent(ctx: Ctx, manifest: Manifest) -> tuple[object, str | FromStep | None] | None:
    """(value to compare, value for the job) of a {ref:} parent's model; None when blocked."""
    if not isinstance(manifest.spec.model, ParentRef):
        return (None, None)
    parent = manifest.spec.model.name
    name = manifest.name
    if parent not in ctx.index:
        ctx.note(Severity.ERROR, name, f"{name}: spec.model refers to unknown model {parent!r}",
                 "A {ref: NAME} must name another manifest of this workspace.")
        return None
    out = ctx.outcome.get(parent)
    if isinstance(out, FromStep):
        return (UNKNOWN, out)
    if isinstance(out, str):
        return (out, out)
    ctx.note(Severity.WARNING, name, f"{name}: waiting for {parent}, which has no current version",
             f"{name} is built on {parent}; it is planned once {parent} has a fine-tuned model.")
    return None


def _plan_in_flight(ctx: Ctx, model: _Model) -> None:
    newest, *others = model.versions.in_flight
    cancels: list[str] = []
    for job in others:  # two applies raced: keep one job per model
        cancels.append(cancel(ctx, model.name, job, Reason.DUPLICATE))
    cmp = model.compare(ctx, newest)
    if not cmp.forced:
        ctx.note(Severity.INFO, model.name,
                 f"{model.name}: job {newest.id} is {newest.status.value}{eta(newest)}")
        noop(ctx, model.name, Reason.IN_PROGRESS, newest)
        return
    cancels.append(cancel(ctx, model.name, newest, Reason.IN_FLIGHT_SPEC_MISMATCH, cmp.changes))
    _create(ctx, model, Reason.IN_FLIGHT_SPEC_MISMATCH, cmp, depends_on=tuple(cancels))


def _plan_settled(ctx: Ctx, model: _Model) -> None:
    versions = model.versions
    latest, current = versions.latest, versions.current
    failed = latest is not None and latest.status in (JobStatus.FAILED, JobStatus.CANCELLED)
    if latest is not None and failed and versions.newer_than(latest, current):
        cmp = model.compare(ctx, latest)
        if not cmp.forced and latest.status is JobStatus.CANCELLED:
            # A cancelled job is not a cost loop: the manifest still asks for the model, so
            # the reconciler starts it again (as `ftctl jobs cancel` warns).
            _create(ctx, model, Reason.CANCELLED, Comparison(changes=(), forced=True))
            return
        if not cmp.forced:
            _report_failed(ctx, model, latest, cmp)
            return
        if current is None:
            _create(ctx, model, Reason.SPEC_CHANGED, cmp)
            return
    if current is not None:
        cmp = model.compare(ctx, current)
        if not cmp.forced:
            adopted = version_of(current) == 0
            noop(ctx, model.name, Reason.ADOPTED if adopted else Reason.UNCHANGED, current)
            retire_settled(ctx, model.manifest, versions)
            return
        is_ref = isinstance(model.manifest.spec.model, ParentRef)
        reason = Reason.PARENT_CHANGED if is_ref and cmp.only_model else Reason.SPEC_CHANGED
        _create(ctx, model, reason, cmp)
        return
    gone = [j for j in versions.jobs if j.status is JobStatus.SUCCEEDED]
    if gone:
        change = FieldChange(path=_MODEL_FIELD, before=gone[-1].fine_tuned_model, after=UNKNOWN)
        cmp = Comparison(changes=(change,), forced=True)
        _create(ctx, model, Reason.DELETED_OUT_OF_BAND, cmp)
        return
    _create(ctx, model, Reason.NEW, Comparison(changes=(), forced=True))


def _report_failed(ctx: Ctx, model: _Model, job: RemoteJob, cmp: Comparison) -> None:
    if ctx.options.retry_failed:
        _create(ctx, model, Reason.RETRY_FAILED, Comparison(changes=(), forced=True))
        return
    why = f": {job.error_message}" if job.error_message else ""
    ctx.note(Severity.WARNING, model.name,
             f"{model.name}: latest job {job.id} {job.status.value}{why}",
             "Not retried with the same spec (no cost loops): change the spec, or plan/apply "
             "with --retry-failed.")
    noop(ctx, model.name, Reason.FAILED, job)


def _create(
    ctx: Ctx, model: _Model, reason: Reason, cmp: Comparison, depends_on: tuple[str, ...] = ()
) -> None:
    """A new version: uploads first, then the job; retire what keep_versions no longer keeps."""
    manifest, versions, name = model.manifest, model.versions, model.name
    spec = manifest.spec
    training = file_ref(ctx, name, spec.training_file)
    validation = file_ref(ctx, name, spec.validation_file) if spec.validation_file else None
    if training is None or (spec.validation_file is not None and validation is None):
        noop(ctx, name, Reason.BLOCKED, versions.current)
        return
    # A new base (or {ref:} parent) model cannot be honoured by continuing the current model.
    rebase = any(c.path == "model" and c.forces_new for c in cmp.changes)
    action = _action(manifest, versions.current, rebase=rebase)
    base = _base_model(model, action)
    version = versions.max_version + 1
    workspace = ctx.desired.settings.workspace
    op = operation_id(workspace, name, version, model.spec)
    payload = CreateJob(
        name=name,
        model=base,
        training_file=training,
        validation_file=validation,
        method_json=method_json(manifest),
        suffix=spec.suffix,
        seed=spec.seed,
        integrations_json=spec.integrations_json,
        metadata=job_metadata(workspace=workspace, name=name, spec=model.spec, version=version,
                              op=op, commit=ctx.options.commit),
        version=version,
        checks=spec.checks,
    )
    refs = (training, validation, base)
    deps = (*depends_on, *(r.key for r in refs if isinstance(r, FromStep)))
    key = f"{name}/create-job"
    ctx.steps.append(Step(key=key, action=action, name=name, reason=reason, payload=payload,
                          changes=cmp.changes, depends_on=tuple(dict.fromkeys(deps)),
                          estimate=estimate_for(ctx, manifest)))
    ctx.outcome[name] = FromStep(key=key, field=_MODEL_FIELD)
    retire(ctx, manifest, versions, after=key)


def _base_model(model: _Model, action: Action) -> str | FromStep:
    """What the new job trains from: the current model (continue), the {ref:} parent's model,
    or spec.model."""
    current = model.versions.current
    if action is Action.CONTINUE and current is not None and current.fine_tuned_model:
        return current.fine_tuned_model
    if model.parent_payload is not None:
        return model.parent_payload
    spec_model = model.manifest.spec.model
    assert isinstance(spec_model, str)  # not a {ref:}: parent_payload would be set
    return spec_model


def _action(manifest: Manifest, current: RemoteJob | None, *, rebase: bool) -> Action:
    if current is None:
        return Action.CREATE
    if manifest.spec.update is UpdatePolicy.CONTINUE and not rebase:
        return Action.CONTINUE
    return Action.RETRAIN

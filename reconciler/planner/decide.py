"""The planner: (desired manifests, remote snapshot, options) -> Plan.

A pure, deterministic function: no disk, network, clock, environment or randomness (the
caller passes `today` in), so the same inputs give a byte-identical plan. The remote is read
once into the model-state layer (state.py); every decision is made here and becomes a step:
train (create, retrain, continue), verify a trained version's checks, retire older versions
once a newer one passed, cancel, upload. Models are planned parents first so a `{ref:}` child
sees what its parent will do. Job-vs-manifest comparison lives in compare, step construction
in steps, deployment steps (Azure) in deploy, orphans/--target in scope, drift in drift.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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
    compare,
    manifest_index,
    manifest_specs,
)
from reconciler.planner.deploy import plan_deployment, plan_orphan_deployments
from reconciler.planner.drift import drift
from reconciler.planner.identity import (
    content_shas,
    job_metadata,
    operation_id,
    state_fingerprint,
)
from reconciler.planner.scope import (
    cut_to_targets,
    method_json,
    plan_cleanup,
    plan_orphans,
    retirement_notes,
)
from reconciler.planner.state import ModelState, Verdict, Version, build_state
from reconciler.planner.steps import (
    MODEL_FIELD,
    Ctx,
    Outcome,
    cancel,
    estimate_for,
    eta,
    file_ref,
    noop,
    retire,
    usable_files,
    verify,
)
from reconciler.refs import parents_first, parents_of
from reconciler.snapshot import JobStatus, RemoteJob, Snapshot
from reconciler.spec import Desired, Manifest, ParentRef, UpdatePolicy

__all__ = ["PlanOptions", "drift", "plan"]


def plan(desired: Desired, snapshot: Snapshot, options: PlanOptions | None = None, *,
         specs: Mapping[str, str] | None = None) -> Plan:
    """What apply would do to bring `snapshot` in line with `desired`.

    `specs` is compare.manifest_specs(desired) when the caller already has it."""
    options = options or PlanOptions()
    state = build_state(desired, snapshot)
    shas = content_shas(snapshot)
    ctx = Ctx(
        desired=desired,
        state=state,
        options=options,
        file_sha=shas,
        remote_files=usable_files(snapshot, shas),
        index=manifest_index(desired),
        specs=manifest_specs(desired) if specs is None else specs,
    )
    order, cyclic = parents_first(parents_of(desired.manifests))
    for name in cyclic:
        ctx.note(Severity.ERROR, name, f"{name}: model {{ref:}} chain forms a cycle",
                 "A model cannot be built on itself; fix the spec.model references.")
    provider_models = ProviderModels.of(snapshot.models)
    for name in order:
        manifest = ctx.index.get(name)
        if manifest is not None:
            since = len(ctx.steps)
            _plan_model(ctx, manifest, provider_models)
            plan_deployment(ctx, manifest, state[name], since=since)
    since = len(ctx.steps)
    plan_orphans(desired, state, ctx.steps, ctx.notes)
    plan_orphan_deployments(ctx, since=since)
    plan_cleanup(desired, snapshot, state, shas, ctx.steps)
    if options.today:
        ctx.notes.extend(retirement_notes(desired, snapshot, options.today, ctx.index))
    steps, notes = cut_to_targets(desired, state, options.targets, ctx.steps, ctx.notes)
    return Plan(
        workspace=desired.settings.workspace,
        snapshot_fingerprint=state_fingerprint(snapshot, shas),
        steps=tuple(steps),
        notes=diag.sorted_diagnostics(notes),
        targets=tuple(sorted(set(options.targets))),
    )


# --- one model ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class _Model:
    """What is known about one manifest while planning it."""

    manifest: Manifest
    state: ModelState
    spec: str  # ftctl-spec of the manifest as it is now
    parent_value: object  # for comparison: parent model id, UNKNOWN, or None (not a {ref:})
    parent_payload: str | FromStep | None

    @property
    def name(self) -> str:
        return self.manifest.name

    def compare(self, ctx: Ctx, job: RemoteJob) -> Comparison:
        # A continued version's model is this name's previous model: compare its root instead.
        # Most jobs are their own root: copying a 21-field job per model cost measurable time.
        root = self.state.lineage_root(job)
        rooted = job if root == job.model else dataclasses.replace(job, model=root)
        return compare(self.manifest, rooted, spec=self.spec, datasets=ctx.desired.datasets,
                       file_sha=ctx.file_sha, parent_model=self.parent_value)


def _plan_model(ctx: Ctx, manifest: Manifest, provider_models: ProviderModels) -> None:
    name = manifest.name
    state = ctx.state[name]
    serving = state.promoted  # what should serve: a {ref:} child builds on it
    ctx.outcome[name] = Outcome.served(serving.model_id) if serving and serving.model_id else None
    missing_base = provider_check(manifest, provider_models)
    if missing_base is not None:
        # Apply would only fail with HTTP 400: plan nothing for it (certainly no retiring).
        ctx.notes.append(missing_base)
        noop(ctx, name, Reason.BLOCKED, serving)
        return
    adopt = manifest.spec.adopt
    if adopt and not state.versions:
        ctx.note(Severity.ERROR, name, f"{name}: adopted job {adopt} was not found",
                 "spec.adopt must name an existing fine-tuning job of this organization.")
        noop(ctx, name, Reason.BLOCKED, None)
        return
    parent = _parent(ctx, manifest)
    if parent is None:
        noop(ctx, name, Reason.BLOCKED, serving)
        return
    model = _Model(
        manifest=manifest,
        state=state,
        spec=ctx.specs[name],
        parent_value=parent.value,
        parent_payload=parent.payload,
    )
    if state.in_flight:
        _plan_in_flight(ctx, model)
    else:
        _plan_settled(ctx, model)


def _parent(ctx: Ctx, manifest: Manifest) -> Outcome | None:
    """What a {ref:} child builds on (Outcome.none() when not a {ref:}); None when blocked."""
    if not isinstance(manifest.spec.model, ParentRef):
        return Outcome(value=None, payload=None)
    parent = manifest.spec.model.name
    name = manifest.name
    if parent not in ctx.index:
        ctx.note(Severity.ERROR, name, f"{name}: spec.model refers to unknown model {parent!r}",
                 "A {ref: NAME} must name another manifest of this workspace.")
        return None
    out = ctx.outcome.get(parent)
    if out is not None:
        return out
    ctx.note(Severity.WARNING, name, f"{name}: waiting for {parent}, which has no serving version",
             f"{name} is built on {parent}; it is planned once {parent} has a fine-tuned model "
             "that passed its checks.")
    return None


def _plan_in_flight(ctx: Ctx, model: _Model) -> None:
    newest, *others = model.state.in_flight
    cancels: list[str] = []
    for version in others:  # two applies raced: keep one job per model
        cancels.append(cancel(ctx, model.name, version.job, Reason.DUPLICATE))
    cmp = model.compare(ctx, newest.job)
    if not cmp.forced:
        ctx.note(Severity.INFO, model.name,
                 f"{model.name}: job {newest.job.id} is {newest.status.value}{eta(newest.job)}")
        noop(ctx, model.name, Reason.IN_PROGRESS, newest)
        return
    cancels.append(cancel(ctx, model.name, newest.job, Reason.IN_FLIGHT_SPEC_MISMATCH,
                          cmp.changes))
    _create(ctx, model, Reason.IN_FLIGHT_SPEC_MISMATCH, cmp, depends_on=tuple(cancels))


def _plan_settled(ctx: Ctx, model: _Model) -> None:
    state = model.state
    latest, candidate = state.latest, state.candidate
    failed = latest is not None and latest.status in (JobStatus.FAILED, JobStatus.CANCELLED)
    if latest is not None and failed and state.newer_than(latest, candidate):
        cmp = model.compare(ctx, latest.job)
        if not cmp.forced and latest.status is JobStatus.CANCELLED:
            # A cancelled job is not a cost loop: the manifest still asks for the model, so
            # the reconciler starts it again (as `ftctl jobs cancel` warns).
            _create(ctx, model, Reason.CANCELLED, Comparison(changes=(), forced=True))
            return
        if not cmp.forced:
            _report_failed(ctx, model, latest)
            return
        if candidate is None:
            _create(ctx, model, Reason.SPEC_CHANGED, cmp)
            return
    if candidate is not None:
        _plan_trained(ctx, model, candidate)
        return
    gone = [v for v in state.versions if v.status is JobStatus.SUCCEEDED]
    if gone:
        change = FieldChange(path=MODEL_FIELD, before=gone[-1].model_id, after=UNKNOWN)
        cmp = Comparison(changes=(change,), forced=True)
        _create(ctx, model, Reason.DELETED_OUT_OF_BAND, cmp)
        return
    _create(ctx, model, Reason.NEW, Comparison(changes=(), forced=True))


def _plan_trained(ctx: Ctx, model: _Model, candidate: Version) -> None:
    """The newest trained version exists: train again, verify it, or keep it."""
    cmp = model.compare(ctx, candidate.job)
    serving = model.state.promoted
    # The manifest went back to what the serving version was made from: nothing to train.
    reverted = (cmp.forced and serving is not None and serving is not candidate
                and not model.compare(ctx, serving.job).forced)
    if reverted and serving is not None:
        _keep(ctx, model, serving)
        return
    if cmp.forced:
        is_ref = isinstance(model.manifest.spec.model, ParentRef)
        reason = Reason.PARENT_CHANGED if is_ref and cmp.only_model else Reason.SPEC_CHANGED
        _create(ctx, model, reason, cmp)
        return
    if candidate.rejected:
        _report_checks_failed(ctx, model, candidate)
        return
    if candidate.verdict is Verdict.NOT_RUN:
        reason = Reason.CHECKS_CHANGED if candidate.verified_before else Reason.UNVERIFIED
        key = verify(ctx, model.manifest, candidate, reason)
        assert candidate.model_id is not None  # a trained version has a model
        ctx.outcome[model.name] = Outcome(value=candidate.model_id,
                                          payload=FromStep(key=key, field=MODEL_FIELD))
        retire(ctx, model.manifest, model.state, kept=candidate, after=key)
        return
    _keep(ctx, model, candidate)


def _keep(ctx: Ctx, model: _Model, version: Version) -> None:
    """`version` serves what the manifest asks for: report it, retire what is beyond
    keep_versions among the older ones."""
    noop(ctx, model.name, Reason.ADOPTED if version.number == 0 else Reason.UNCHANGED, version)
    retire(ctx, model.manifest, model.state, kept=version, after=None)


def _report_failed(ctx: Ctx, model: _Model, latest: Version) -> None:
    if ctx.options.retry_failed:
        _create(ctx, model, Reason.RETRY_FAILED, Comparison(changes=(), forced=True))
        return
    job = latest.job
    why = f": {job.error_message}" if job.error_message else ""
    ctx.note(Severity.WARNING, model.name,
             f"{model.name}: latest job {job.id} {job.status.value}{why}",
             "Not retried with the same spec (no cost loops): change the spec, or plan/apply "
             "with --retry-failed.")
    noop(ctx, model.name, Reason.FAILED, latest)


def _report_checks_failed(ctx: Ctx, model: _Model, version: Version) -> None:
    if ctx.options.retry_failed:
        _create(ctx, model, Reason.RETRY_FAILED, Comparison(changes=(), forced=True))
        return
    serving = model.state.serving
    still = (f"version {serving.number} ({serving.model_id}) keeps serving" if serving
             else "no version serves")
    ctx.note(Severity.WARNING, model.name,
             f"{model.name}: version {version.number} ({version.model_id}) {version.rejection}; "
             f"{still}",
             "Not retrained with the same spec (no cost loops): change the spec or the "
             f"{'evaluation' if version.verdict is Verdict.REFUSED else 'checks'}, "
             "or plan/apply with --retry-failed. `ftctl show` lists the versions.")
    noop(ctx, model.name, Reason.CHECKS_FAILED, version)


def _create(
    ctx: Ctx, model: _Model, reason: Reason, cmp: Comparison, depends_on: tuple[str, ...] = ()
) -> None:
    """A new version: uploads first, then the job; retire what keep_versions no longer keeps."""
    manifest, state, name = model.manifest, model.state, model.name
    spec = manifest.spec
    serving = state.promoted
    training = file_ref(ctx, name, spec.training_file)
    validation = file_ref(ctx, name, spec.validation_file) if spec.validation_file else None
    if training is None or (spec.validation_file is not None and validation is None):
        noop(ctx, name, Reason.BLOCKED, serving)
        return
    # A new base (or {ref:} parent) model cannot be honoured by continuing the current model.
    rebase = any(c.path == "model" and c.forces_new for c in cmp.changes)
    action = _action(manifest, serving, trained=state.candidate is not None, rebase=rebase)
    base = _base_model(model, action)
    version = state.max_version + 1
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
    ctx.outcome[name] = Outcome(value=UNKNOWN, payload=FromStep(key=key, field=MODEL_FIELD))
    retire(ctx, manifest, state, kept=None, after=key)


def _base_model(model: _Model, action: Action) -> str | FromStep:
    """What the new job trains from: the serving model (continue), the {ref:} parent's model,
    or spec.model. Never an unverified or failed version."""
    serving = model.state.promoted
    if action is Action.CONTINUE and serving is not None and serving.model_id:
        return serving.model_id
    if model.parent_payload is not None:
        return model.parent_payload
    spec_model = model.manifest.spec.model
    assert isinstance(spec_model, str)  # not a {ref:}: parent_payload would be set
    return spec_model


def _action(
    manifest: Manifest, serving: Version | None, *, trained: bool, rebase: bool
) -> Action:
    """create: nothing trained yet; continue: from the serving model (never from one that
    did not pass its checks); retrain: from the base model, next to what exists."""
    if not trained and serving is None:
        return Action.CREATE
    continues = manifest.spec.update is UpdatePolicy.CONTINUE and not rebase
    return Action.CONTINUE if continues and serving is not None else Action.RETRAIN

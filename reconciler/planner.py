"""The planner: (desired manifests, remote snapshot, options) -> Plan, per DESIGN §4.

A pure, deterministic function: no disk, network, clock, environment or randomness (the
caller passes `today` in), so the same inputs give a byte-identical plan. Models are planned
parents first so a `{ref:}` child sees what its parent will do. Version bookkeeping and
job-vs-manifest comparison live in planner_versions; drift in planner_drift.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from reconciler import diagnostics as diag
from reconciler.diagnostics import Diagnostic, Severity
from reconciler.estimate import estimate
from reconciler.identity import (
    file_name,
    job_metadata,
    operation_id,
    sha_from_file_name,
)
from reconciler.identity import state_fingerprint as _state_fingerprint
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    CreateJob,
    DeleteModel,
    Estimate,
    FieldChange,
    FromStep,
    NoChange,
    Plan,
    PlanOptions,
    Reason,
    Step,
    UploadFile,
)
from reconciler.planner_drift import drift
from reconciler.planner_scope import (
    cut_to_targets,
    method_json,
    plan_orphans,
    ref_order,
    retirement_notes,
    total_estimate,
)
from reconciler.planner_versions import (
    Comparison,
    Versions,
    compare,
    file_shas,
    managed_jobs_by_name,
    manifest_index,
    root_base_model,
    spec_of,
    version_of,
    versions_for,
)
from reconciler.snapshot import JobStatus, RemoteFile, RemoteJob, Snapshot
from reconciler.spec import DatasetRef, Desired, Manifest, ParentRef, UpdatePolicy

__all__ = ["PlanOptions", "drift", "plan"]

_MODEL_FIELD = "fine_tuned_model"  # the result field a {ref:} child reads from its parent's step


@dataclass(slots=True)
class _Ctx:
    desired: Desired
    snapshot: Snapshot
    options: PlanOptions
    groups: dict[str, list[RemoteJob]]
    file_sha: dict[str, str]
    remote_files: dict[str, RemoteFile]
    model_ids: frozenset[str]
    index: dict[str, Manifest]
    steps: list[Step] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    uploads: dict[str, str] = field(default_factory=dict)  # sha256 -> upload step key
    outcome: dict[str, str | FromStep | None] = field(default_factory=dict)

    def note(self, severity: Severity, name: str | None, summary: str, detail: str = "") -> None:
        self.notes.append(
            Diagnostic(severity=severity, summary=summary, detail=detail, address=name)
        )


def plan(desired: Desired, snapshot: Snapshot, options: PlanOptions | None = None) -> Plan:
    """What apply would do to bring `snapshot` in line with `desired`."""
    options = options or PlanOptions()
    ctx = _Ctx(
        desired=desired,
        snapshot=snapshot,
        options=options,
        groups=managed_jobs_by_name(snapshot),
        file_sha=file_shas(snapshot),
        remote_files=_usable_files(snapshot),
        model_ids=frozenset(m.id for m in snapshot.models),
        index=manifest_index(desired),
    )
    order, cyclic = ref_order(desired)
    for name in cyclic:
        ctx.note(Severity.ERROR, name, f"{name}: model {{ref:}} chain forms a cycle",
                 "A model cannot be built on itself; fix the spec.model references.")
    for name in order:
        manifest = ctx.index.get(name)
        if manifest is not None:
            _plan_model(ctx, manifest)
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


def _usable_files(snapshot: Snapshot) -> dict[str, RemoteFile]:
    """sha256 -> the oldest usable remote file carrying it (so re-uploads are never needed)."""
    out: dict[str, RemoteFile] = {}
    for f in sorted(snapshot.files, key=lambda f: (f.created_at, f.id)):
        if f.purpose != "fine-tune" or f.status in ("error", "deleted"):
            continue
        sha = sha_from_file_name(f.filename)
        if sha is not None and sha not in out:
            out[sha] = f
    return out


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

    def compare(self, ctx: _Ctx, job: RemoteJob) -> Comparison:
        # A continued version's model is this name's previous model: compare its root instead.
        rooted = dataclasses.replace(job, model=self.versions.lineage_root(job))
        return compare(self.manifest, rooted, spec=self.spec, datasets=ctx.desired.datasets,
                       file_sha=ctx.file_sha, parent_model=self.parent_value)


def _plan_model(ctx: _Ctx, manifest: Manifest) -> None:
    name = manifest.name
    versions = versions_for(name, manifest, ctx.groups, ctx.snapshot, model_ids=ctx.model_ids)
    current = versions.current
    ctx.outcome[name] = current.fine_tuned_model if current else None
    adopt = manifest.spec.adopt
    if adopt and not versions.jobs:
        ctx.note(Severity.ERROR, name, f"{name}: adopted job {adopt} was not found",
                 "spec.adopt must name an existing fine-tuning job of this organization.")
        _noop(ctx, name, Reason.BLOCKED, None)
        return
    parent = _parent(ctx, manifest)
    if parent is None:
        _noop(ctx, name, Reason.BLOCKED, current)
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


def _parent(ctx: _Ctx, manifest: Manifest) -> tuple[object, str | FromStep | None] | None:
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


def _plan_in_flight(ctx: _Ctx, model: _Model) -> None:
    newest, *others = model.versions.in_flight
    cancels: list[str] = []
    for job in others:  # two applies raced: keep one job per model
        cancels.append(_cancel(ctx, model.name, job, Reason.DUPLICATE))
    cmp = model.compare(ctx, newest)
    if not cmp.forced:
        eta = _eta(newest)
        ctx.note(Severity.INFO, model.name,
                 f"{model.name}: job {newest.id} is {newest.status.value}{eta}")
        _noop(ctx, model.name, Reason.IN_PROGRESS, newest)
        return
    cancels.append(_cancel(ctx, model.name, newest, Reason.IN_FLIGHT_SPEC_MISMATCH, cmp.changes))
    _create(ctx, model, Reason.IN_FLIGHT_SPEC_MISMATCH, cmp, depends_on=tuple(cancels))


def _plan_settled(ctx: _Ctx, model: _Model) -> None:
    versions = model.versions
    latest, current = versions.latest, versions.current
    failed = latest is not None and latest.status in (JobStatus.FAILED, JobStatus.CANCELLED)
    if latest is not None and failed and versions.newer_than(latest, current):
        cmp = model.compare(ctx, latest)
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
            _noop(ctx, model.name, Reason.ADOPTED if adopted else Reason.UNCHANGED, current)
            _retire_settled(ctx, model.manifest, versions)
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


def _report_failed(ctx: _Ctx, model: _Model, job: RemoteJob, cmp: Comparison) -> None:
    if ctx.options.retry_failed:
        _create(ctx, model, Reason.RETRY_FAILED, Comparison(changes=(), forced=True))
        return
    why = f": {job.error_message}" if job.error_message else ""
    ctx.note(Severity.WARNING, model.name,
             f"{model.name}: latest job {job.id} {job.status.value}{why}",
             "Not retried with the same spec (no cost loops): change the spec, or plan/apply "
             "with --retry-failed.")
    _noop(ctx, model.name, Reason.FAILED, job)


def _create(
    ctx: _Ctx, model: _Model, reason: Reason, cmp: Comparison, depends_on: tuple[str, ...] = ()
) -> None:
    """A new version: uploads first, then the job; retire what keep_versions no longer keeps."""
    manifest, versions, name = model.manifest, model.versions, model.name
    spec = manifest.spec
    training = _file_ref(ctx, name, spec.training_file)
    validation = _file_ref(ctx, name, spec.validation_file) if spec.validation_file else None
    if training is None or (spec.validation_file is not None and validation is None):
        _noop(ctx, name, Reason.BLOCKED, versions.current)
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
                          estimate=_estimate(ctx, manifest)))
    ctx.outcome[name] = FromStep(key=key, field=_MODEL_FIELD)
    _retire(ctx, manifest, versions, after=key)


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


def _file_ref(ctx: _Ctx, name: str, ref: DatasetRef | None) -> str | FromStep | None:
    """The remote file id of a dataset, or the upload step that will produce it."""
    if ref is None:
        return None
    info = ctx.desired.datasets.get(ref.repo_path)
    if info is None:
        ctx.note(Severity.ERROR, name, f"{name}: no dataset facts for {ref.repo_path}",
                 "The dataset could not be read; run `ftctl validate` for the details.")
        return None
    remote = ctx.remote_files.get(info.sha256)
    if remote is not None:
        return remote.id
    key = ctx.uploads.get(info.sha256)
    if key is None:
        key = f"upload/{ref.repo_path}"
        ctx.uploads[info.sha256] = key
        payload = UploadFile(repo_path=ref.repo_path, sha256=info.sha256, bytes=info.bytes,
                             filename=file_name(info.sha256))
        ctx.steps.append(Step(key=key, action=Action.UPLOAD, name=name,
                              reason=Reason.MISSING_FILE, payload=payload))
    return FromStep(key=key, field="id")


def _estimate(ctx: _Ctx, manifest: Manifest) -> Estimate | None:
    info = ctx.desired.datasets.get(manifest.spec.training_file.repo_path)
    base = root_base_model(ctx.desired, manifest.name, ctx.index)
    if info is None or base is None:
        return None
    n_epochs = manifest.spec.method.hyperparameter("n_epochs")
    return estimate(info, n_epochs=n_epochs, model=base, prices=ctx.desired.settings.prices)


def _retire(ctx: _Ctx, manifest: Manifest, versions: Versions, *, after: str | None) -> None:
    """Delete versions beyond keep_versions; after a create, only once it succeeded."""
    keep = max(1, manifest.spec.lifecycle.keep_versions)
    existing = versions.existing
    victims = existing[keep - 1:] if after else existing[keep:]
    for job in victims:
        assert job.fine_tuned_model is not None  # existing jobs have a model
        ctx.steps.append(_delete_step(manifest.name, job, Reason.SUPERSEDED, after))
        if manifest.spec.lifecycle.prevent_destroy:
            ctx.notes.append(diag.error(
                f"{manifest.name}: plan would delete {job.fine_tuned_model}, but "
                "lifecycle.prevent_destroy is set",
                "Raise lifecycle.keep_versions, or set prevent_destroy: false to allow it.",
                address=manifest.name, subject=manifest.source,
            ))


def _retire_settled(ctx: _Ctx, manifest: Manifest, versions: Versions) -> None:
    """Versions beyond keep_versions with no new version planned (keep_versions lowered, or
    an apply that did not get as far as retiring). With checks, the current version may have
    failed them (no state records that), so older versions stay until a new one passes, or
    the caller says it passed (PlanOptions.checks_passed)."""
    extra = len(versions.existing) - max(1, manifest.spec.lifecycle.keep_versions)
    if extra <= 0:
        return
    if not manifest.spec.checks or manifest.name in ctx.options.checks_passed:
        _retire(ctx, manifest, versions, after=None)
        return
    ctx.note(Severity.INFO, manifest.name,
             f"{manifest.name}: keeping {extra} older version(s) beyond keep_versions until a "
             "new version passes its checks")


def _delete_step(name: str, job: RemoteJob, reason: Reason, after: str | None) -> Step:
    model_id = job.fine_tuned_model or ""
    return Step(key=f"{name}/delete/{model_id}", action=Action.DELETE, name=name, reason=reason,
                payload=DeleteModel(model_id=model_id, job_id=job.id),
                depends_on=(after,) if after else ())


def _cancel(
    ctx: _Ctx, name: str, job: RemoteJob, reason: Reason, changes: tuple[FieldChange, ...] = ()
) -> str:
    key = f"{name}/cancel/{job.id}"
    ctx.steps.append(Step(key=key, action=Action.CANCEL, name=name, reason=reason,
                          payload=CancelJob(job_id=job.id), changes=changes))
    return key


def _noop(ctx: _Ctx, name: str, reason: Reason, job: RemoteJob | None) -> None:
    payload = NoChange(
        job_id=job.id if job else None,
        model_id=job.fine_tuned_model if job else None,
        status=job.status.value if job else None,
        version=version_of(job) if job else None,
    )
    ctx.steps.append(Step(key=name, action=Action.NOOP, name=name, reason=reason,
                          payload=payload))


def _eta(job: RemoteJob) -> str:
    if not job.estimated_finish:
        return ""
    when = dt.datetime.fromtimestamp(job.estimated_finish, tz=dt.UTC)
    return f" (ETA {when.strftime('%Y-%m-%d %H:%M')} UTC)"

"""The planner's working state and the steps it emits: uploads, verifies, deletes, cancels,
reports.

Pure, no I/O; part of the planner. `Ctx` collects steps and notes while plan() walks the
models; the decisions live in decide.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler import diagnostics as diag
from reconciler.diagnostics import Diagnostic, Severity
from reconciler.estimate import estimate
from reconciler.plan import (
    Action,
    CancelJob,
    DeleteModel,
    Estimate,
    FieldChange,
    FromStep,
    NoChange,
    PlanOptions,
    Reason,
    Step,
    UploadFile,
    VerifyModel,
)
from reconciler.planner.identity import file_name
from reconciler.planner.state import ModelState, RemoteState, Version
from reconciler.refs import root_base_model
from reconciler.snapshot import RemoteFile, RemoteJob, Snapshot, upload_order
from reconciler.spec import DatasetRef, Desired, Manifest
from reconciler.timestamps import utc_minute

MODEL_FIELD = "fine_tuned_model"  # the result field a {ref:} child reads from its parent's step


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a model will serve after apply, for a {ref:} child: value to compare with (a model
    id, or UNKNOWN until a new job trains it) and what the child's job is built on."""

    value: object
    payload: str | FromStep | None

    @classmethod
    def served(cls, model_id: str) -> Outcome:
        return cls(value=model_id, payload=model_id)


@dataclass(slots=True)
class Ctx:
    desired: Desired
    state: RemoteState
    options: PlanOptions
    file_sha: dict[str, str]
    remote_files: dict[str, RemoteFile]
    index: dict[str, Manifest]
    specs: Mapping[str, str]  # name -> ftctl-spec now (compare.manifest_specs)
    steps: list[Step] = field(default_factory=list)
    notes: list[Diagnostic] = field(default_factory=list)
    uploads: dict[str, str] = field(default_factory=dict)  # sha256 -> upload step key
    outcome: dict[str, Outcome | None] = field(default_factory=dict)

    def note(self, severity: Severity, name: str | None, summary: str, detail: str = "") -> None:
        self.notes.append(
            Diagnostic(severity=severity, summary=summary, detail=detail, address=name)
        )


def usable_files(snapshot: Snapshot, shas: Mapping[str, str]) -> dict[str, RemoteFile]:
    """sha256 -> the first usable remote file carrying it in upload_order (so re-uploads are
    never needed).

    `shas` is identity.content_shas(snapshot)."""
    out: dict[str, RemoteFile] = {}
    # One pass keeping the oldest so far: nearly every sha has one file (20,000 of them at
    # scale), and a list per sha only to take its minimum cost the garbage collector dearly.
    for f in snapshot.files:
        sha = shas.get(f.id)
        if sha is None or f.purpose != "fine-tune" or not f.usable:
            continue
        held = out.get(sha)
        if held is None or upload_order(f) < upload_order(held):
            out[sha] = f
    return out


def file_ref(ctx: Ctx, name: str, ref: DatasetRef | None) -> str | FromStep | None:
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


def estimate_for(ctx: Ctx, manifest: Manifest) -> Estimate | None:
    info = ctx.desired.datasets.get(manifest.spec.training_file.repo_path)
    base = root_base_model(ctx.index, manifest.name)
    if info is None or base is None:
        return None
    n_epochs = manifest.spec.method.hyperparameter("n_epochs")
    return estimate(info, n_epochs=n_epochs, model=base, prices=ctx.desired.settings.prices)


def retire(
    ctx: Ctx, manifest: Manifest, state: ModelState, *, kept: Version | None, after: str | None
) -> None:
    """Delete trained versions beyond keep_versions, never the one kept nor a newer one.

    kept None: a new version is planned (`after`, its create step) and takes one place; deleting
    waits until it trained and passed its checks. kept: the version that stays, with `after`
    its verify step when its verdict is not recorded yet."""
    keep = max(1, manifest.spec.lifecycle.keep_versions)
    trained = state.trained
    older = trained if kept is None else trained[trained.index(kept) + 1:]
    for version in older[keep - 1:]:
        ctx.steps.append(delete_step(manifest.name, version.job, Reason.SUPERSEDED, after))
        if manifest.spec.lifecycle.prevent_destroy:
            ctx.notes.append(diag.error(
                f"{manifest.name}: plan would delete {version.model_id}, but "
                "lifecycle.prevent_destroy is set",
                "Raise lifecycle.keep_versions, or set prevent_destroy: false to allow it.",
                address=manifest.name,
                subject=manifest.spec.lifecycle.source or manifest.source,
            ))


def verify(ctx: Ctx, manifest: Manifest, version: Version, reason: Reason) -> str:
    """A step that runs the manifest's checks against `version` and records the verdict."""
    assert version.model_id is not None and ctx.state[manifest.name].checks_id is not None
    key = f"{manifest.name}/verify/{version.job.id}"
    payload = VerifyModel(name=manifest.name, job_id=version.job.id, model_id=version.model_id,
                          base_model=version.job.model, version=version.number,
                          checks=manifest.spec.checks,
                          checks_id=ctx.state[manifest.name].checks_id or "")
    ctx.steps.append(Step(key=key, action=Action.VERIFY, name=manifest.name, reason=reason,
                          payload=payload))
    return key


def delete_step(name: str, job: RemoteJob, reason: Reason, after: str | None) -> Step:
    model_id = job.fine_tuned_model or ""
    return Step(key=f"{name}/delete/{model_id}", action=Action.DELETE, name=name, reason=reason,
                payload=DeleteModel(model_id=model_id, job_id=job.id),
                depends_on=(after,) if after else ())


def cancel(
    ctx: Ctx, name: str, job: RemoteJob, reason: Reason, changes: tuple[FieldChange, ...] = ()
) -> str:
    key = f"{name}/cancel/{job.id}"
    ctx.steps.append(Step(key=key, action=Action.CANCEL, name=name, reason=reason,
                          payload=CancelJob(job_id=job.id), changes=changes))
    return key


def noop(ctx: Ctx, name: str, reason: Reason, version: Version | None) -> None:
    payload = NoChange(
        job_id=version.job.id if version else None,
        model_id=version.model_id if version else None,
        status=version.status.value if version else None,
        version=version.number if version else None,
    )
    ctx.steps.append(Step(key=name, action=Action.NOOP, name=name, reason=reason,
                          payload=payload))


def eta(job: RemoteJob) -> str:
    if not job.estimated_finish:
        return ""
    return f" (ETA {utc_minute(job.estimated_finish)} UTC)"

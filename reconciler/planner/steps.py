"""The planner's working state and the steps it emits: uploads, deletes, cancels, reports.

Pure, no I/O; part of the planner (split out of planner.py to keep modules small). `Ctx`
collects steps and notes while plan() walks the models; the decisions live in planner.py.
"""

from __future__ import annotations

import datetime as dt
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
)
from reconciler.planner.compare import Versions, root_base_model, version_of
from reconciler.planner.identity import file_name, sha_from_file_name
from reconciler.snapshot import RemoteFile, RemoteJob, Snapshot
from reconciler.spec import DatasetRef, Desired, Manifest


@dataclass(slots=True)
class Ctx:
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




def usable_files(snapshot: Snapshot) -> dict[str, RemoteFile]:
    """sha256 -> the oldest usable remote file carrying it (so re-uploads are never needed)."""
    out: dict[str, RemoteFile] = {}
    for f in sorted(snapshot.files, key=lambda f: (f.created_at, f.id)):
        if f.purpose != "fine-tune" or f.status in ("error", "deleted"):
            continue
        sha = sha_from_file_name(f.filename)
        if sha is not None and sha not in out:
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
    base = root_base_model(ctx.desired, manifest.name, ctx.index)
    if info is None or base is None:
        return None
    n_epochs = manifest.spec.method.hyperparameter("n_epochs")
    return estimate(info, n_epochs=n_epochs, model=base, prices=ctx.desired.settings.prices)


def retire(ctx: Ctx, manifest: Manifest, versions: Versions, *, after: str | None) -> None:
    """Delete versions beyond keep_versions; after a create, only once it succeeded."""
    keep = max(1, manifest.spec.lifecycle.keep_versions)
    existing = versions.existing
    victims = existing[keep - 1:] if after else existing[keep:]
    for job in victims:
        assert job.fine_tuned_model is not None  # existing jobs have a model
        ctx.steps.append(delete_step(manifest.name, job, Reason.SUPERSEDED, after))
        if manifest.spec.lifecycle.prevent_destroy:
            ctx.notes.append(diag.error(
                f"{manifest.name}: plan would delete {job.fine_tuned_model}, but "
                "lifecycle.prevent_destroy is set",
                "Raise lifecycle.keep_versions, or set prevent_destroy: false to allow it.",
                address=manifest.name,
                subject=manifest.spec.lifecycle.source or manifest.source,
            ))


def retire_settled(ctx: Ctx, manifest: Manifest, versions: Versions) -> None:
    """Versions beyond keep_versions with no new version planned (keep_versions lowered, or
    an apply that did not get as far as retiring). With a gate (checks, evaluation), the current
    version may have failed it (no state records that), so older versions stay until a new one
    passes, or the caller says it passed (PlanOptions.checks_passed)."""
    extra = len(versions.existing) - max(1, manifest.spec.lifecycle.keep_versions)
    if extra <= 0:
        return
    if not manifest.spec.gated or manifest.name in ctx.options.checks_passed:
        retire(ctx, manifest, versions, after=None)
        return
    ctx.note(Severity.INFO, manifest.name,
             f"{manifest.name}: keeping {extra} older version(s) beyond keep_versions until a "
             "new version passes its checks")


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


def noop(ctx: Ctx, name: str, reason: Reason, job: RemoteJob | None) -> None:
    payload = NoChange(
        job_id=job.id if job else None,
        model_id=job.fine_tuned_model if job else None,
        status=job.status.value if job else None,
        version=version_of(job) if job else None,
    )
    ctx.steps.append(Step(key=name, action=Action.NOOP, name=name, reason=reason,
                          payload=payload))


def eta(job: RemoteJob) -> str:
    if not job.estimated_finish:
        return ""
    when = dt.datetime.fromtimestamp(job.estimated_finish, tz=dt.UTC)
    return f" (ETA {when.strftime('%Y-%m-%d %H:%M')} UTC)"

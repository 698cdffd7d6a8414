"""The planner's whole-plan concerns: orphans, cleanup on Azure (jobs of retired versions
under prune, dataset files nothing needs), --target, base-model retirement notes, and the
job's `method` body.

Pure, no I/O; part of the planner.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from reconciler import diagnostics as diag
from reconciler.diagnostics import Diagnostic
from reconciler.plan import (
    Action,
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    Reason,
    Step,
)
from reconciler.planner.compare import (
    dated_base_models,
    retiring_base,
)
from reconciler.planner.state import ModelState, RemoteState, Version
from reconciler.refs import ancestors, parents_of, root_base_model
from reconciler.snapshot import RemoteJob, Snapshot
from reconciler.spec import Desired, Manifest


def plan_orphans(
    desired: Desired, state: RemoteState, steps: list[Step], notes: list[Diagnostic]
) -> None:
    """Managed names no manifest declares: prune when asked, warn otherwise.

    Never prunes when zero manifests were found: a wrong `manifests` glob must not delete
    everything the workspace manages.
    """
    orphans = state.orphans
    if not orphans:
        return
    if not desired.settings.prune:
        for name in orphans:
            notes.append(diag.warning(
                f"{name}: no manifest declares this managed model (orphan)",
                "Its jobs and models are left alone; set `prune: true` in ftctl.yaml to "
                "delete them, or restore the manifest.",
                address=name,
            ))
        return
    if not desired.manifests:
        notes.append(diag.warning(
            f"no manifests were found: not pruning {len(orphans)} orphaned model(s)",
            "Pruning is refused when no manifest is found at all; check `manifests` in "
            "ftctl.yaml.",
        ))
        return
    for name in orphans:
        steps.extend(_prune_steps(state[name]))


def _prune_steps(orphan: ModelState) -> list[Step]:
    """Cancel an orphan's jobs in flight and delete its models (no dependencies)."""
    name = orphan.name
    out: list[Step] = []
    for version in reversed(orphan.in_flight):
        job_id = version.job.id
        out.append(Step(key=f"{name}/cancel/{job_id}", action=Action.CANCEL, name=name,
                        reason=Reason.ORPHANED, payload=CancelJob(job_id=job_id)))
    for version in orphan.trained:
        model_id = version.model_id or ""
        out.append(Step(key=f"{name}/delete/{model_id}", action=Action.DELETE, name=name,
                        reason=Reason.ORPHANED,
                        payload=DeleteModel(model_id=model_id, job_id=version.job.id)))
    return out


# -- cleanup on Azure: its per-resource limits count every job and file kept -----------------


def plan_cleanup(desired: Desired, snapshot: Snapshot, state: RemoteState,
                 shas: Mapping[str, str], steps: list[Step]) -> None:
    """On Azure: delete the jobs of retired versions (prune: true) and, unless
    `delete_unneeded_files: false`, ftctl's dataset uploads nothing needs any more.

    Nothing is cleaned up without manifests (a wrong `manifests` glob would make everything
    look unneeded) or without the list of every job on the resource (another workspace's job
    may train on a file this one uploaded: content-addressed files are shared)."""
    settings = desired.settings
    if not settings.provider.speaks_azure or not desired.manifests \
            or snapshot.resource_jobs is None:
        return
    if settings.prune:
        steps.extend(_job_deletes(state, steps))
    if settings.delete_unneeded_files:
        steps.extend(_file_deletes(desired, snapshot, shas, steps))


def _job_deletes(state: RemoteState, steps: Sequence[Step]) -> list[Step]:
    """A delete step per finished job of a retired version: failed, cancelled, or succeeded
    with its model gone (one whose model exists is retired by deleting the model, which on
    Azure deletes its job). A declared model's latest version is kept until the plan creates
    a newer one (its failure is what stops the planner retrying at a cost, and what drift
    reports); it is then deleted once that job exists."""
    creates = {s.name: s.key for s in steps if isinstance(s.payload, CreateJob)}
    out: list[Step] = []
    for model in state:
        replaced_by = creates.get(model.name)
        kept = model.latest if model.declared and replaced_by is None else None
        for version in model.versions:
            if not _retired(version) or version is kept:
                continue
            after = (replaced_by,) if replaced_by and version is model.latest else ()
            job_id = version.job.id
            out.append(Step(key=f"{model.name}/delete-job/{job_id}", action=Action.DELETE,
                            name=model.name, reason=Reason.UNNEEDED, depends_on=after,
                            payload=DeleteJob(job_id=job_id)))
    return out


def _retired(version: Version) -> bool:
    # number 0: a hand-made job a manifest adopts; ftctl did not make it and never deletes it.
    return version.status.is_terminal and not version.trained and version.number > 0


def _file_deletes(desired: Desired, snapshot: Snapshot, shas: Mapping[str, str],
                  steps: Sequence[Step]) -> list[Step]:
    """A delete step per content-addressed dataset upload that no manifest needs and no job
    on the resource names, once the plan's deletes of the jobs that name it are done."""
    if not _datasets_known(desired):
        return []  # what the manifests need is unknown, so nothing is known to be unneeded
    needed = {info.sha256 for info in desired.datasets.values()}
    leaving = _jobs_deleted_by(steps, snapshot.jobs)
    users: dict[str, list[str]] = {}  # file id -> the jobs naming it that stay
    deleting: dict[str, list[str]] = {}  # file id -> the plan's steps deleting jobs naming it
    for job in snapshot.resource_jobs or ():
        for file_id in (job.training_file, job.validation_file):
            if file_id is None:
                continue
            if job.id in leaving:
                deleting.setdefault(file_id, []).append(leaving[job.id])
            else:
                users.setdefault(file_id, []).append(job.id)
    out: list[Step] = []
    for f in snapshot.files:
        sha = shas.get(f.id)
        if sha is None or sha in needed or f.purpose != "fine-tune" or f.id in users \
                or f.status == "deleted":
            continue
        after = tuple(sorted(set(deleting.get(f.id, ()))))
        out.append(Step(key=f"delete-file/{f.id}", action=Action.DELETE, name=f.filename,
                        reason=Reason.UNNEEDED, depends_on=after,
                        payload=DeleteFile(file_id=f.id, filename=f.filename, bytes=f.bytes)))
    return out


def _datasets_known(desired: Desired) -> bool:
    """Whether the facts (sha256) of every manifest's datasets were read."""
    for manifest in desired.manifests:
        for ref in (manifest.spec.training_file, manifest.spec.validation_file):
            if ref is not None and ref.repo_path not in desired.datasets:
                return False
    return True


def _jobs_deleted_by(steps: Sequence[Step], jobs: Sequence[RemoteJob]) -> dict[str, str]:
    """job id -> the step of this plan that deletes it: a job delete, or a model delete (on
    Azure a fine-tuned model goes with the job that made it)."""
    made_by = {j.fine_tuned_model: j.id for j in jobs if j.fine_tuned_model}
    out: dict[str, str] = {}
    for step in steps:
        payload = step.payload
        if isinstance(payload, DeleteJob):
            out[payload.job_id] = step.key
        elif isinstance(payload, DeleteModel):
            job_id = payload.job_id or made_by.get(payload.model_id)
            if job_id:
                out[job_id] = step.key
    return out


def cut_to_targets(
    desired: Desired,
    state: RemoteState,
    targets: Sequence[str],
    steps: list[Step],
    notes: list[Diagnostic],
) -> tuple[list[Step], list[Diagnostic]]:
    """Keep only the targets and what they depend on ({ref:} ancestors, their uploads)."""
    if not targets:
        return steps, notes
    scope: set[str] = set()
    extra: list[Diagnostic] = []
    parents = parents_of(desired.manifests)
    for target in sorted(set(targets)):
        if desired.manifest(target) is None and target not in state.models:
            extra.append(diag.error(
                f"--target {target}: no such model",
                "Name a manifest's metadata.name (or an orphaned managed model).",
            ))
        scope.add(target)
        scope.update(ancestors(parents, target))
    kept = [s for s in steps if s.name in scope and s.action is not Action.UPLOAD]
    needed = {d for s in kept for d in s.depends_on}
    uploads = {s.key for s in steps if s.action is Action.UPLOAD and s.key in needed}
    kept_keys = {s.key for s in kept} | uploads
    kept = [s for s in steps if s.key in kept_keys]
    kept_notes = [n for n in notes if n.address is None or n.address in scope]
    return kept, kept_notes + extra


def method_json(manifest: Manifest) -> str:
    """The job's `method` body as canonical JSON: {type, <type>: {hyperparameters, grader}}."""
    method = manifest.spec.method
    inner: dict[str, object] = {}
    if method.hyperparameters:
        inner["hyperparameters"] = dict(method.hyperparameters)
    if method.grader_json:
        inner["grader"] = json.loads(method.grader_json)
    body: dict[str, object] = {"type": method.type.value}
    if inner:
        body[method.type.value] = inner
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def retirement_notes(
    desired: Desired, snapshot: Snapshot, today: str, index: Mapping[str, Manifest]
) -> list[Diagnostic]:
    """A warning per manifest whose base model is retired within 90 days of today."""
    dated = dated_base_models(snapshot.models)
    notes: list[Diagnostic] = []
    for manifest in desired.manifests if dated else ():
        base = root_base_model(index, manifest.name)
        found = retiring_base(base, dated, today) if base else None
        if found is not None:
            listed, left = found
            when = (f"is retired on {listed.shutdown_date} (in {left} days)" if left >= 0
                    else f"was retired on {listed.shutdown_date} ({-left} days ago)")
            notes.append(diag.warning(
                f"{manifest.name}: base model {listed.id} {when}",
                "Fine-tuned models stop serving when their base model is retired.",
                address=manifest.name,
            ))
    return notes

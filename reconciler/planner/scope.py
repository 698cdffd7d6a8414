"""The planner's whole-plan concerns: orphans, --target, base-model retirement notes, and the
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
    DeleteModel,
    Reason,
    Step,
)
from reconciler.planner.compare import (
    dated_base_models,
    retiring_base,
)
from reconciler.planner.state import ModelState, RemoteState
from reconciler.refs import ancestors, parents_of, root_base_model
from reconciler.snapshot import Snapshot
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

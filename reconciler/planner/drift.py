"""Drift: where the remote has moved away from git, as a DriftReport. Pure, no I/O.

Reports out-of-band deletions of a model's newest version, failed or cancelled latest jobs,
deployments gone (deleted by hand, or by Azure's inactivity rule) or pointing at another
version than the one that should serve, orphans (managed names no manifest declares),
fine-tuned models no managed job produced, and base models retiring within 90 days of
`today` (passed in: the planner reads no clock).
"""

from __future__ import annotations

from reconciler.plan import DriftItem, DriftKind, DriftReport
from reconciler.planner.compare import (
    dated_base_models,
    manifest_index,
    retiring_base,
)
from reconciler.planner.state import ModelState, RemoteState, build_state
from reconciler.refs import root_base_model
from reconciler.snapshot import JobStatus, Snapshot
from reconciler.spec import Desired

_KIND_ORDER = {kind: i for i, kind in enumerate(DriftKind)}


def drift(desired: Desired, snapshot: Snapshot, *, today: str) -> DriftReport:
    """Everything in `snapshot` that git does not account for, sorted by kind then name."""
    state = build_state(desired, snapshot)
    items = [
        *_per_manifest(desired, state),
        *_orphans(state),
        *_unmanaged(desired, snapshot),
        *_retiring(desired, snapshot, today),
    ]
    items.sort(key=lambda i: (_KIND_ORDER[i.kind], i.name or "", i.subject or ""))
    return DriftReport(workspace=desired.settings.workspace, items=tuple(items), today=today)


def _per_manifest(desired: Desired, state: RemoteState) -> list[DriftItem]:
    items: list[DriftItem] = []
    for manifest in desired.manifests:
        model = state[manifest.name]
        items.extend(_model_drift(model))
        items.extend(_deployment_drift(model))
    return items


def _deployment_drift(model: ModelState) -> list[DriftItem]:
    """The manifest's deployment is gone, or serves another version than the promoted one."""
    name, promoted, current = model.name, model.promoted, model.deployment
    if model.deployment_name is None or promoted is None or model.foreign_deployment:
        return []
    if current is None:
        return [DriftItem(
            kind=DriftKind.DEPLOYMENT_MISSING, name=name, subject=model.deployment_name,
            message=f"{name}: deployment {model.deployment_name} is gone (deleted outside "
                    f"ftctl, or by Azure after 15 days without inference); version "
                    f"{promoted.number} ({promoted.model_id}) is not served",
        )]
    if current.model != promoted.model_id:
        was = model.deployed
        what = f"version {was.number} ({current.model})" if was else current.model
        return [DriftItem(
            kind=DriftKind.DEPLOYMENT_MOVED, name=name, subject=model.deployment_name,
            message=f"{name}: deployment {current.name} serves {what}, not version "
                    f"{promoted.number} ({promoted.model_id})",
        )]
    return []


def _model_drift(model: ModelState) -> list[DriftItem]:
    name = model.name
    items: list[DriftItem] = []
    succeeded = [v for v in model.versions if v.status is JobStatus.SUCCEEDED]
    if succeeded and not succeeded[-1].model_exists:
        gone = succeeded[-1]
        items.append(DriftItem(
            kind=DriftKind.DELETED_OUT_OF_BAND, name=name, subject=gone.model_id,
            message=f"{name}: model {gone.model_id} (version from {gone.job.id}) "
                    "was deleted outside ftctl",
        ))
    latest = model.latest
    if latest is not None and latest.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        kind = (DriftKind.FAILED_JOB if latest.status is JobStatus.FAILED
                else DriftKind.CANCELLED_JOB)
        why = f": {latest.job.error_message}" if latest.job.error_message else ""
        items.append(DriftItem(kind=kind, name=name, subject=latest.job.id,
                               message=f"{name}: latest job {latest.job.id} "
                                       f"{latest.status.value}{why}"))
    candidate = model.candidate
    if candidate is not None and candidate.rejected:
        serving = model.serving
        still = (f"version {serving.number} keeps serving" if serving
                 else "no version serves")
        items.append(DriftItem(
            kind=DriftKind.CHECKS_FAILED, name=name, subject=candidate.model_id,
            message=f"{name}: version {candidate.number} ({candidate.model_id}) "
                    f"{candidate.rejection}; {still}",
        ))
    return items


def _orphans(state: RemoteState) -> list[DriftItem]:
    items = []
    for name in state.orphans:
        orphan = state[name]
        models = [v.model_id for v in orphan.trained]
        running = len(orphan.in_flight)
        items.append(DriftItem(
            kind=DriftKind.ORPHAN, name=name,
            subject=models[0] if models else orphan.versions[-1].job.id,
            message=f"{name}: no manifest declares it; {len(models)} model(s), "
                    f"{running} job(s) in flight",
        ))
    return items


def _unmanaged(desired: Desired, snapshot: Snapshot) -> list[DriftItem]:
    produced = {j.fine_tuned_model for j in snapshot.jobs if j.fine_tuned_model}
    return [
        DriftItem(kind=DriftKind.UNMANAGED_MODEL, subject=m.id,
                  message=f"fine-tuned model {m.id} is not managed by workspace "
                          f"{desired.settings.workspace}")
        for m in sorted(snapshot.models, key=lambda m: m.id)
        if m.is_fine_tuned and m.id not in produced
    ]


def _retiring(desired: Desired, snapshot: Snapshot, today: str) -> list[DriftItem]:
    items: list[DriftItem] = []
    dated = dated_base_models(snapshot.models)
    index = manifest_index(desired)
    for manifest in desired.manifests:
        base = root_base_model(index, manifest.name)
        found = retiring_base(base, dated, today) if base and dated else None
        if found is None:
            continue
        listed, left = found
        when = (f"is retired on {listed.shutdown_date} (in {left} days)" if left >= 0
                else f"was retired on {listed.shutdown_date} ({-left} days ago)")
        items.append(DriftItem(
            kind=DriftKind.BASE_MODEL_RETIRING, name=manifest.name, subject=listed.id,
            date=listed.shutdown_date, message=f"{manifest.name}: base model {listed.id} {when}",
        ))
    return items

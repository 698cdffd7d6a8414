"""Drift: where the remote has moved away from git, as a DriftReport. Pure, no I/O.

Reports out-of-band deletions of a model's newest version, failed or cancelled latest jobs,
orphans (managed names no manifest declares), fine-tuned models no managed job produced, and
base models retiring within 90 days of `today` (passed in: the planner reads no clock).
"""

from __future__ import annotations

from reconciler.plan import DriftItem, DriftKind, DriftReport
from reconciler.planner.compare import (
    dated_base_models,
    managed_jobs_by_name,
    manifest_index,
    retiring_base,
    root_base_model,
    versions_for,
)
from reconciler.planner.scope import orphan_names
from reconciler.snapshot import JobStatus, Snapshot
from reconciler.spec import Desired

_KIND_ORDER = {kind: i for i, kind in enumerate(DriftKind)}


def drift(desired: Desired, snapshot: Snapshot, *, today: str) -> DriftReport:
    """Everything in `snapshot` that git does not account for, sorted by kind then name."""
    items = [
        *_per_manifest(desired, snapshot),
        *_orphans(desired, snapshot),
        *_unmanaged(desired, snapshot),
        *_retiring(desired, snapshot, today),
    ]
    items.sort(key=lambda i: (_KIND_ORDER[i.kind], i.name or "", i.subject or ""))
    return DriftReport(workspace=desired.settings.workspace, items=tuple(items), today=today)


def _per_manifest(desired: Desired, snapshot: Snapshot) -> list[DriftItem]:
    groups = managed_jobs_by_name(snapshot)
    model_ids = frozenset(m.id for m in snapshot.models)
    items: list[DriftItem] = []
    for manifest in desired.manifests:
        name = manifest.name
        versions = versions_for(name, manifest, groups, snapshot, model_ids=model_ids)
        succeeded = [j for j in versions.jobs if j.status is JobStatus.SUCCEEDED]
        if succeeded and succeeded[-1].fine_tuned_model not in versions.model_ids:
            gone = succeeded[-1]
            items.append(DriftItem(
                kind=DriftKind.DELETED_OUT_OF_BAND, name=name, subject=gone.fine_tuned_model,
                message=f"{name}: model {gone.fine_tuned_model} (version from {gone.id}) "
                        "was deleted outside ftctl",
            ))
        latest = versions.latest
        if latest is not None and latest.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            kind = (DriftKind.FAILED_JOB if latest.status is JobStatus.FAILED
                    else DriftKind.CANCELLED_JOB)
            why = f": {latest.error_message}" if latest.error_message else ""
            items.append(DriftItem(kind=kind, name=name, subject=latest.id,
                                   message=f"{name}: latest job {latest.id} "
                                           f"{latest.status.value}{why}"))
    return items


def _orphans(desired: Desired, snapshot: Snapshot) -> list[DriftItem]:
    declared = {m.name for m in desired.manifests}
    items = []
    groups = managed_jobs_by_name(snapshot)
    model_ids = frozenset(m.id for m in snapshot.models)
    for name in orphan_names(groups, declared, snapshot):
        jobs = groups[name]
        versions = versions_for(name, None, groups, snapshot, model_ids=model_ids)
        models = [j.fine_tuned_model for j in versions.existing]
        running = len(versions.in_flight)
        items.append(DriftItem(
            kind=DriftKind.ORPHAN, name=name, subject=models[0] if models else jobs[-1].id,
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
        base = root_base_model(desired, manifest.name, index)
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

"""Azure OpenAI's per-resource limits, checked on a finished plan before anything is written:
fine-tune files, their total size, training jobs and fine-tuned deployments.

The limits are the resource's, so they count every workspace's files, jobs and deployments on
it, not only this project's. `plan` and `apply` (without a saved plan: a saved one was checked
when it was made) both refuse a plan that would pass one: an error note, so every renderer
shows why, the command exits 1 and nothing is carried out. Never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reconciler.client.api import RemoteApi
from reconciler.client.azure import AzureApi
from reconciler.client.fallback_identity import records_per_create
from reconciler.diagnostics import Diagnostic, Diagnostics, error
from reconciler.model_names import is_fine_tuned_id
from reconciler.plan import (
    Action,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeployModel,
    Plan,
    RemoveDeployment,
    UploadFile,
)
from reconciler.spec import Desired


@dataclass(frozen=True, slots=True)
class ResourceLimits:
    """Azure OpenAI's documented fine-tuning quotas per resource (its quotas-and-limits page)."""

    files: int = 100
    file_bytes: int = 1024**3  # "1 GB" of fine-tune files in all
    training_jobs: int = 100  # whatever their status
    deployments: int = 10  # fine-tuned model deployments


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
    deployments: int = 0  # fine-tuned deployments (base-model deployments have their own quota)
    has_deployments: bool = False  # a gate then checks through a temporary deployment
    records_per_create: int = 0

    def read(self, api: RemoteApi) -> None:
        """Every fine-tune file (identity records included), job and deployment of the resource."""
        files = api.list_files("fine-tune")
        self.files, self.file_bytes = len(files), sum(f.bytes for f in files)
        self.jobs = len(api.list_jobs())  # no metadata filter: all workspaces' jobs
        deployed = api.list_deployments()
        self.has_deployments = deployed is not None
        self.deployments = sum(is_fine_tuned_id(d.model) for d in deployed or ())
        kept = api.metadata_kept if isinstance(api, AzureApi) else None
        self.records_per_create = records_per_create(kept)
        self.observed = True


@dataclass(frozen=True, slots=True)
class _Demand:
    """What a plan adds to (and takes from) the resource's counts."""

    uploads: int
    upload_bytes: int
    creates: int
    records: int
    file_deletes: int
    freed_bytes: int
    job_deletes: int
    deploys: int
    undeploys: int
    gates: int  # temporary verify deployments alive at once, at most

    @classmethod
    def of(cls, plan: Plan, usage: ResourceUsage, gates: int) -> _Demand:
        payloads = [s.payload for s in plan.changes]
        uploads = [p for p in payloads if isinstance(p, UploadFile)]
        freed = [p for p in payloads if isinstance(p, DeleteFile)]
        creates = sum(isinstance(p, CreateJob) for p in payloads)
        return cls(
            uploads=len(uploads), upload_bytes=sum(u.bytes for u in uploads),
            creates=creates, records=creates * usage.records_per_create,
            file_deletes=len(freed), freed_bytes=sum(f.bytes for f in freed),
            job_deletes=sum(isinstance(p, DeleteJob) for p in payloads),
            deploys=sum(isinstance(p, DeployModel) and p.current_model is None
                        for p in payloads),
            undeploys=sum(isinstance(p, RemoveDeployment) for p in payloads),
            gates=gates,
        )


def concurrent_gates(plan: Plan, desired: Desired, concurrency: int | None = None) -> int:
    """How many temporary verify deployments the plan's gates may hold at once: one per gate
    (a verify step, or a new version of a gated manifest), no more than run together
    (concurrency: apply's --concurrency, else the project's setting)."""
    concurrency = concurrency or desired.settings.concurrency
    gated = {m.name for m in desired.manifests if m.spec.gated}
    gates = sum(
        s.action is Action.VERIFY or (isinstance(s.payload, CreateJob) and s.name in gated)
        for s in plan.changes)
    return min(gates, max(1, concurrency))


def limit_notes(plan: Plan, usage: ResourceUsage, limits: ResourceLimits = AZURE_LIMITS,
                *, gates: int = 0) -> Diagnostics:
    """One error per limit the resource would pass if the plan were applied. gates: the
    temporary verify deployments running at once (concurrent_gates), counted only where the
    provider has deployments.

    Files, jobs and deployments the plan deletes are taken off: the counts are those the plan
    leaves, plus the temporary deployments of its checks."""
    need = _Demand.of(plan, usage, gates if usage.has_deployments else 0)
    hint = ("Delete fine-tune files or jobs the resource no longer needs (any workspace's: "
            "the limit is the resource's), use another resource, or plan fewer models with "
            "--target.")
    notes: list[Diagnostic] = []
    for check in _CHECKS:
        found = check(usage, need, limits)
        if found:
            notes.append(error(found, _DEPLOY_HINT if check is _deployments else hint,
                               code=LIMIT_CODE))
    return tuple(notes)


_DEPLOY_HINT = ("Remove deployments the resource no longer needs (spec.deployment of a model "
                "that can go, or another workspace's), use another resource, or plan fewer "
                "models with --target.")


def _files(usage: ResourceUsage, need: _Demand, limits: ResourceLimits) -> str:
    files = usage.files + need.uploads + need.records - need.file_deletes
    if files <= limits.files:
        return ""
    freed = f", {need.file_deletes} to delete" if need.file_deletes else ""
    return (f"the plan would leave {files} fine-tune files on the Azure OpenAI resource, over "
            f"its limit of {limits.files} ({usage.files} there, {need.uploads} to upload, up "
            f"to {need.records} identity records for the new jobs{freed})")


def _bytes(usage: ResourceUsage, need: _Demand, limits: ResourceLimits) -> str:
    size = usage.file_bytes + need.upload_bytes - need.freed_bytes
    if size <= limits.file_bytes:
        return ""
    freed = f", {_size(need.freed_bytes)} to delete" if need.freed_bytes else ""
    return (f"the plan would leave {_size(size)} of fine-tune files on the Azure OpenAI "
            f"resource, over its limit of {_size(limits.file_bytes)} "
            f"({_size(usage.file_bytes)} there, {_size(need.upload_bytes)} to upload{freed})")


def _jobs(usage: ResourceUsage, need: _Demand, limits: ResourceLimits) -> str:
    jobs = usage.jobs + need.creates - need.job_deletes
    if jobs <= limits.training_jobs:
        return ""
    freed = f", {need.job_deletes} to delete" if need.job_deletes else ""
    return (f"the plan would leave {jobs} training jobs on the Azure OpenAI resource, over "
            f"its limit of {limits.training_jobs} ({usage.jobs} there, {need.creates} to "
            f"create{freed})")


def _deployments(usage: ResourceUsage, need: _Demand, limits: ResourceLimits) -> str:
    peak = usage.deployments + need.deploys - need.undeploys + need.gates
    if peak <= limits.deployments:
        return ""
    gates = (f", {need.gates} temporary for checks at once" if need.gates else "")
    return (f"the plan would need {peak} fine-tuned deployments on the Azure OpenAI resource, "
            f"over its limit of {limits.deployments} ({usage.deployments} there, "
            f"{need.deploys} to create, {need.undeploys} to remove{gates})")


_CHECKS: tuple[Callable[[ResourceUsage, _Demand, ResourceLimits], str], ...] = (
    _files, _bytes, _jobs, _deployments)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"

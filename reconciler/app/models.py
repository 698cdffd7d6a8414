"""`models list|delete`: the organization's fine-tuned models, which manifest and version
manages each, and when its base model retires; deleting unmanaged leftovers.

A managed model is deleted by removing its manifest (or lowering keep_versions) and applying,
so delete refuses those unless forced. Never prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.app.operate import Owner, Refused, Workspace, owner_of, workspace_snapshot
from reconciler.model_names import ft_base, is_fine_tuned_id, models_match
from reconciler.planner.compare import dated_base_models
from reconciler.planner.state import build_state
from reconciler.snapshot import RemoteJob, RemoteModel, Snapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRow:
    model: RemoteModel
    base_model: str | None
    base_shutdown_date: str | None  # the base model's announced retirement, if any
    job_id: str | None  # the job that produced it, when it is listed
    owner: Owner
    current: bool = False  # the version its name serves now

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.model.id, "created": self.model.created, "owned_by": self.model.owned_by,
            "base_model": self.base_model, "base_shutdown_date": self.base_shutdown_date,
            "job_id": self.job_id, "current": self.current, "managed_by": self.owner.to_json(),
        }


def list_models(ws: Workspace) -> tuple[ModelRow, ...]:
    """Every fine-tuned model in the organization, sorted by id."""
    models = ws.api.list_models()
    jobs = ws.api.list_jobs()
    snapshot = workspace_snapshot(ws, all_jobs=jobs, models=models)
    by_model = {j.fine_tuned_model: j for j in jobs if j.fine_tuned_model}
    by_model.update({j.fine_tuned_model: j for j in snapshot.jobs if j.fine_tuned_model})
    current = _current_models(ws, snapshot)
    dated = dated_base_models(tuple(models))
    return tuple(
        _row(ws, m, by_model.get(m.id), dated, current)
        for m in sorted(models, key=lambda m: m.id)
        if m.is_fine_tuned
    )


def _row(ws: Workspace, model: RemoteModel, job: RemoteJob | None,
         dated: tuple[RemoteModel, ...], current: frozenset[str]) -> ModelRow:
    base = _root_base(model.id, job)
    shutdown = next((d.shutdown_date for d in dated if base and models_match(d.id, base)), None)
    return ModelRow(model=model, base_model=base, base_shutdown_date=shutdown,
                    job_id=job.id if job else None,
                    owner=owner_of(ws, job) if job else Owner(), current=model.id in current)


def _root_base(model_id: str, job: RemoteJob | None) -> str | None:
    """The base model named in a fine-tuned id (ft:BASE:org:suffix:id), else the job's."""
    return ft_base(model_id) or (ft_base(job.model) or job.model if job else None)


def _current_models(ws: Workspace, snapshot: Snapshot) -> frozenset[str]:
    served = (model.serving_model for model in build_state(ws.desired, snapshot))
    return frozenset(m for m in served if m)


def delete_target(ws: Workspace, model_id: str, *, force: bool = False) -> ModelRow:
    """The model to delete; Refused for base models, and for managed ones unless forced."""
    row = next((r for r in list_models(ws) if r.model.id == model_id), None)
    if row is None:
        if not is_fine_tuned_id(model_id):
            raise Refused(f"{model_id} is not a fine-tuned model; only fine-tuned models "
                          "(ft:… or, on Azure, <base>.ft-…) can be deleted")
        raise Refused(f"no fine-tuned model {model_id} in this organization")
    owner = row.owner
    if force:
        return row
    if owner.manifest:
        raise Refused(
            f"{model_id} is version {owner.version or '?'} of {owner.name}, which a manifest "
            f"manages. Managed models are deleted by removing the manifest of {owner.name} (or "
            "lowering its lifecycle.keep_versions) and running `ftctl apply`; pass --force to "
            "delete it anyway (the next plan then trains it again)"
        )
    if owner.workspace is not None and not owner.managed:
        raise Refused(
            f"{model_id} is managed by ftctl workspace {owner.workspace!r} "
            f"({owner.name or '?'}); delete it from that project, or pass --force"
        )
    return row


def delete(ws: Workspace, row: ModelRow) -> None:
    ws.api.delete_model(row.model.id)

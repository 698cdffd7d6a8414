"""Endpoints for models (list, retrieve, delete) and checkpoint permissions. Asking a model
(`/chat/completions`, `/completions`) lives in `inference`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from reconciler.emulator import catalog, lifecycle
from reconciler.emulator.context import Context, json_body, limit_arg, new_id, page
from reconciler.emulator.errors import ApiError, invalid, not_found


def list_models(ctx: Context, request: Request) -> dict[str, Any]:
    return {"object": "list", "data": catalog.all_models(ctx)}


def get_model(ctx: Context, request: Request, model: str) -> dict[str, Any]:
    found = catalog.find_model(ctx, model)
    if found is None:
        raise not_found("model", model, "model")
    return found


def delete_model(ctx: Context, request: Request, model: str) -> dict[str, Any]:
    if catalog.is_base(model):
        raise ApiError(403, f"You do not have permission to delete the base model {model}.",
                       param="model", code="model_not_owned")
    if catalog.live_job(ctx, model) is None:
        raise not_found("model", model, "model")
    ctx.store.delete_model(model, int(ctx.now()))
    return {"id": model, "object": "model", "deleted": True}


# -- checkpoint permissions ------------------------------------------------------------------


def _checkpoint_exists(ctx: Context, name: str) -> bool:
    model, _, step = name.rpartition(":ckpt-step-")
    if not model:
        return catalog.live_job(ctx, name) is not None
    job = ctx.store.job_by_model(model)
    if job is None or not step.isdigit():
        return False
    ckpts = lifecycle.checkpoints(job, ctx.view(job), ctx.speed)
    return any(c["step_number"] == int(step) for c in ckpts)


def _permission(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "object": "checkpoint.permission",
            "created_at": row["created_at"], "project_id": row["project_id"]}


def create_permissions(ctx: Context, request: Request, checkpoint: str) -> dict[str, Any]:
    if not _checkpoint_exists(ctx, checkpoint):
        raise not_found("checkpoint", checkpoint, "fine_tuned_model_checkpoint")
    ids = json_body(request).get("project_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid("'project_ids' must be a non-empty list of project ids.", "project_ids")
    rows = []
    for project in ids:
        row = {"id": new_id("cp_"), "checkpoint": checkpoint, "project_id": project,
               "created_at": int(ctx.now())}
        ctx.store.insert_permission(row)
        rows.append(_permission(row))
    return page(rows, len(rows), ids=True)


def list_permissions(ctx: Context, request: Request, checkpoint: str) -> dict[str, Any]:
    if not _checkpoint_exists(ctx, checkpoint):
        raise not_found("checkpoint", checkpoint, "fine_tuned_model_checkpoint")
    limit = limit_arg(request, 10, 10000)
    rows = [_permission(r) for r in ctx.store.list_permissions(checkpoint)]
    if request.args.get("order") == "ascending":
        rows.reverse()
    project = request.args.get("project_id")
    if project:
        rows = [r for r in rows if r["project_id"] == project]
    after = request.args.get("after")
    if after:
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(after) + 1 :] if after in ids else rows
    return page(rows[: limit + 1], limit, ids=True)


def delete_permission(
    ctx: Context, request: Request, checkpoint: str, permission_id: str
) -> dict[str, Any]:
    if not ctx.store.delete_permission(checkpoint, permission_id):
        raise not_found("checkpoint permission", permission_id, "permission_id")
    return {"id": permission_id, "object": "checkpoint.permission", "deleted": True}


_PERMS = "/v1/fine_tuning/checkpoints/<checkpoint>/permissions"
RULES = [
    Rule("/v1/models", methods=["GET"], endpoint=list_models),
    Rule("/v1/models/<model>", methods=["GET"], endpoint=get_model),
    Rule("/v1/models/<model>", methods=["DELETE"], endpoint=delete_model),
    Rule(_PERMS, methods=["POST"], endpoint=create_permissions),
    Rule(_PERMS, methods=["GET"], endpoint=list_permissions),
    Rule(_PERMS + "/<permission_id>", methods=["DELETE"], endpoint=delete_permission),
]

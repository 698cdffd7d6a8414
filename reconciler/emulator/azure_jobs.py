"""Fine-tuning jobs in the Azure dialect: the shared `jobs_api` handlers under Azure's rules.

What differs from OpenAI, and is done here:
- statuses: `pending` instead of validating_files, `pausing` before paused, `resuming` after
  a resume; pause only a running job that trained at least one step;
- `trainingType` (an extra body field) is accepted and echoed; `metadata` is kept, or dropped
  when the resource is set to ignore it (`--no-metadata`);
- the job list ignores `metadata[...]` filters (Azure has none): it lists every job;
- training files must be `processed` first; at most `limits.training_jobs` jobs per resource;
- checkpoint ids look like Azure's (`ftchkpt-<32 hex>`);
- the dated API creates with 201 + `Location`, and is the only one that deletes a job.
Deleting a job deletes its fine-tuned model too, and is refused while a deployment serves it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from werkzeug.wrappers import Request, Response

from reconciler.emulator import deployments, jobs_api, lifecycle
from reconciler.emulator.azure_errors import entity_state, quota
from reconciler.emulator.azure_files import require_processed
from reconciler.emulator.azure_requests import with_json, without_args
from reconciler.emulator.context import Context, json_body, json_response
from reconciler.emulator.errors import ApiError, invalid

PAUSING_SECONDS = 10.0  # simulated time a paused job shows `pausing`
RESUMING_SECONDS = 10.0  # simulated time a resumed job shows `resuming`
# Spellings Azure's documentation uses for trainingType; the accepted set is unverified, so
# every documented spelling is accepted (any casing) and echoed back as sent.
TRAINING_TYPES = frozenset({"standard", "globalstandard", "developer", "developertier"})


def azure_job(ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's job object as Azure shows it."""
    return _as_azure(ctx, obj, ctx.job_or_404(obj["id"]))


def _as_azure(ctx: Context, obj: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    extra = ctx.store.get_azure_job(obj["id"]) or {}
    out = {**obj, "status": _status(ctx, obj["status"], row, extra), "organization_id": None}
    if extra.get("training_type"):
        out["trainingType"] = extra["training_type"]
    return out


def _status(ctx: Context, status: str, row: dict[str, Any], extra: dict[str, Any]) -> str:
    now, speed = ctx.now(), ctx.speed
    if status == "validating_files":
        return "pending"
    if status == "paused" and (now - row["paused_at"]) * speed < PAUSING_SECONDS:
        return "pausing"
    resumed = extra.get("resumed_at")
    if status in ("queued", "running") and resumed is not None and (
            now - resumed) * speed < RESUMING_SECONDS:
        return "resuming"
    return status


def _created(request: Request, obj: dict[str, Any], path: str) -> Response:
    if request.path.startswith("/openai/v1/"):
        return json_response(obj)
    return json_response(obj, 201, {"Location": f"{request.host_url}openai/{path}"})


def create_job(ctx: Context, request: Request) -> Response:
    body = json_body(request)
    limit = ctx.resource().limits.training_jobs
    if len(ctx.store.all_jobs()) >= limit:
        raise quota(f"The resource already has {limit} training jobs, the maximum; delete "
                    "jobs that are no longer needed.")
    training_type = _training_type(body.pop("trainingType", None))
    require_processed(ctx, body.get("training_file"), "training_file")
    require_processed(ctx, body.get("validation_file"), "validation_file")
    if not ctx.resource().keep_metadata:
        body.pop("metadata", None)
    obj = jobs_api.create_job(ctx, with_json(request, body))
    if training_type is not None:
        ctx.store.put_azure_job(obj["id"], training_type=training_type)
    job = azure_job(ctx, obj)
    return _created(request, job, f"fine_tuning/jobs/{job['id']}")


def _training_type(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in TRAINING_TYPES:
        raise invalid(f"Invalid trainingType {value!r}: expected Standard, GlobalStandard or "
                      "Developer.", "trainingType")
    return value


def list_jobs(ctx: Context, request: Request) -> dict[str, Any]:
    """Every job, newest first: Azure has no metadata filter, and ignores one if sent."""
    plain = without_args(request, ["metadata"], prefix="metadata[")
    out = jobs_api.job_page(ctx, plain)
    shown = []
    for obj in out["data"]:
        row = ctx.store.get_job(obj["id"])
        if row is not None:  # None: deleted (DELETE on the dated API) since the page was read
            shown.append(_as_azure(ctx, obj, row))
    return {**out, "data": shown}


def get_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    return azure_job(ctx, jobs_api.get_job(ctx, request, job_id))


def cancel_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    return azure_job(ctx, jobs_api.cancel_job(ctx, request, job_id))


def pause_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    state = ctx.view(job)
    if state.status != "running" or state.step < 1:
        raise entity_state(f"Only a running job that has trained at least one step can be "
                           f"paused; {job_id} is {get_job(ctx, request, job_id)['status']}.",
                           "fine_tuning_job_id")
    return azure_job(ctx, jobs_api.pause_job(ctx, request, job_id))


def resume_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    status = get_job(ctx, request, job_id)["status"]
    if status != "paused":
        raise entity_state(f"Only a paused job can be resumed; {job_id} is {status}.",
                           "fine_tuning_job_id")
    obj = jobs_api.resume_job(ctx, request, job_id)
    ctx.store.put_azure_job(job_id, resumed_at=ctx.now())
    return azure_job(ctx, obj)


def list_events(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    return jobs_api.list_events(ctx, request, job_id)


def list_checkpoints(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    out = jobs_api.list_checkpoints(ctx, request, job_id)
    data = [{**c, "id": checkpoint_id(c["id"])} for c in out["data"]]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {**out, "data": data, "first_id": first, "last_id": last}


def checkpoint_id(shared_id: str) -> str:
    """Azure's id (`ftchkpt-<32 hex>`) of the checkpoint the shared lifecycle names."""
    return "ftchkpt-" + hashlib.sha256(shared_id.encode()).hexdigest()[:32]


def find_checkpoint(ctx: Context, ident: str) -> str | None:
    """The fine-tuned model behind checkpoint `ident` (an `ftchkpt-` id or a
    `<model>:ckpt-step-N` name), if a job of this resource has reached it."""
    for job in ctx.store.all_jobs():
        for ckpt in lifecycle.checkpoints(job, ctx.view(job), ctx.speed):
            if ident in (checkpoint_id(ckpt["id"]), ckpt["fine_tuned_model_checkpoint"]):
                return str(job["doc"]["fine_tuned_model"])
    return None


def delete_job(ctx: Context, request: Request, job_id: str) -> Response:
    """Dated API only: a finished job goes, and its fine-tuned model with it."""
    job = ctx.job_or_404(job_id)
    status = ctx.view(job).status
    if status not in lifecycle.TERMINAL:
        raise entity_state(f"Job {job_id} is {get_job(ctx, request, job_id)['status']}; "
                           "cancel it before deleting it.", "fine_tuning_job_id")
    model = job["doc"]["fine_tuned_model"]
    serving = [row["name"] for row in ctx.store.all_deployments()
               if row["doc"]["serving"] == model
               and deployments.view(row, ctx.now(), ctx.speed).state is not None]
    if serving:
        raise ApiError(409, f"The model of job {job_id} is deployed ({', '.join(serving)}); "
                       "delete the deployment first.", code="conflict")
    ctx.store.delete_job(job_id, int(ctx.now()))
    return Response(status=204)

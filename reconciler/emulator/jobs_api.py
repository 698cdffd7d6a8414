"""Endpoints for fine-tuning jobs: create, list (metadata filter, cursor), retrieve, cancel,
pause, resume, events and checkpoints. Request checks live in `job_request`; status comes from
`lifecycle` on every read (a finished job's list answer is kept, see `answers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from reconciler.emulator import answers, lifecycle
from reconciler.emulator.context import (
    ORG_ID,
    Context,
    after_slice,
    json_body,
    json_response,
    limit_arg,
    new_id,
    page,
)
from reconciler.emulator.errors import ApiError, invalid
from reconciler.emulator.job_request import build_job_doc


def job_object(ctx: Context, job: dict[str, Any],
               v: lifecycle.JobView | None = None) -> dict[str, Any]:
    doc = job["doc"]
    v = v or ctx.view(job)
    done = v.status == "succeeded"
    error = None
    if v.status == "failed":
        err = doc["error"]
        error = {"code": err["code"], "message": err["message"], "param": err["param"]}
    return {
        "id": job["id"],
        "object": "fine_tuning.job",
        "created_at": int(job["created_at"]),
        "error": error,
        "fine_tuned_model": doc["fine_tuned_model"] if done else None,
        "finished_at": v.finished_at,
        "hyperparameters": doc["hyperparameters"],
        "model": doc["model"],
        "organization_id": ORG_ID,
        "result_files": [doc["result_file"]] if done else [],
        "status": v.status,
        "trained_tokens": doc["trained_tokens"] if done else None,
        "training_file": doc["training_file"],
        "validation_file": doc["validation_file"],
        "integrations": doc["integrations"],
        "seed": doc["seed"],
        "estimated_finish": v.estimated_finish,
        "method": doc["method"],
        "metadata": doc["metadata"],
    }


def create_job(ctx: Context, request: Request) -> dict[str, Any]:
    if ctx.closed:
        raise ApiError(403, "Fine-tuning is no longer available to this organization: new "
                       "fine-tuning jobs cannot be created.", code="fine_tuning_unavailable")
    doc = build_job_doc(ctx, json_body(request))
    job_id = new_id("ftjob-")
    created = ctx.now()
    ctx.store.insert_job(job_id, created, doc)
    return job_object(ctx, ctx.job_or_404(job_id))


def _metadata_filter(request: Request) -> tuple[dict[str, str] | None, bool]:
    pairs = {
        key[len("metadata[") : -1]: value
        for key, value in request.args.items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    null = request.args.get("metadata") == "null"
    if null and pairs:
        raise invalid("Use either metadata=null or metadata[key]=value, not both.", "metadata")
    return (pairs or None), null


def list_jobs(ctx: Context, request: Request) -> Response:
    """The list answer, spliced from the jobs' encoded answers (see `answers`)."""
    items, limit = _listed(ctx, request)
    return json_response(answers.encoded_envelope(items, limit))


def job_page(ctx: Context, request: Request) -> dict[str, Any]:
    """The list answer as a dict, for a dialect that reworks each job."""
    items, limit = _listed(ctx, request)
    return answers.envelope([item.obj for item in items], limit)


def _listed(ctx: Context, request: Request) -> tuple[list[answers.Encoded], int]:
    """Up to limit+1 jobs of the page asked for, newest first, and the limit.

    A finished job's answer is kept once its end is recorded (a finished job cannot be
    cancelled, paused or resumed, and its document is written once); only the others are read
    whole, replayed and built on each listing."""
    limit = limit_arg(request, 20, 10000)
    metadata, null = _metadata_filter(request)
    seqs = ctx.store.list_job_seqs(
        metadata=metadata, metadata_null=null, after=request.args.get("after"), limit=limit + 1,
    )
    return ctx.finished_jobs.page(seqs, lambda missing: _built(ctx, missing)), limit


def _built(ctx: Context, seqs: list[int]) -> Iterator[tuple[int, answers.Encoded, bool]]:
    rows = list(ctx.store.jobs_by_seq(seqs).values())  # a job deleted meanwhile: gone
    recorded_end = [row["reached_status"] in lifecycle.TERMINAL for row in rows]
    for row, view, ended in zip(rows, ctx.views(rows), recorded_end, strict=True):
        # A job seen ending only now is kept from the next read, once its end is recorded.
        yield row["seq"], answers.encode(job_object(ctx, row, view)), ended


def get_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    return job_object(ctx, ctx.job_or_404(job_id))


def cancel_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    status = ctx.view(job).status
    if status in lifecycle.TERMINAL:
        raise invalid(f"Job {job_id} has already {_finished(status)} and cannot be cancelled.",
                      "fine_tuning_job_id", "job_not_cancellable")
    ctx.store.update_job(job_id, cancelled_at=ctx.now())
    return job_object(ctx, ctx.job_or_404(job_id))


def _finished(status: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed"}.get(status, "been cancelled")


def pause_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    status = ctx.view(job).status
    if status not in ("queued", "running"):
        raise invalid(f"Only a queued or running job can be paused; {job_id} is {status}.",
                      "fine_tuning_job_id", "job_not_pausable")
    ctx.store.update_job(job_id, paused_at=ctx.now())
    return job_object(ctx, ctx.job_or_404(job_id))


def resume_job(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    if job["paused_at"] is None or ctx.view(job).status != "paused":
        raise invalid(f"Only a paused job can be resumed; {job_id} is not paused.",
                      "fine_tuning_job_id", "job_not_paused")
    paused_for = ctx.now() - job["paused_at"]
    ctx.store.update_job(job_id, paused_at=None, paused_total=job["paused_total"] + paused_for)
    return job_object(ctx, ctx.job_or_404(job_id))


def list_events(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    limit = limit_arg(request, 20, 10000)
    items = lifecycle.events(job, ctx.view(job), ctx.speed)
    return page(after_slice(items, request.args.get("after"))[: limit + 1], limit, ids=False)


def list_checkpoints(ctx: Context, request: Request, job_id: str) -> dict[str, Any]:
    job = ctx.job_or_404(job_id)
    limit = limit_arg(request, 10, 10000)
    items = lifecycle.checkpoints(job, ctx.view(job), ctx.speed)
    return page(after_slice(items, request.args.get("after"))[: limit + 1], limit, ids=True)


RULES = [
    Rule("/v1/fine_tuning/jobs", methods=["POST"], endpoint=create_job),
    Rule("/v1/fine_tuning/jobs", methods=["GET"], endpoint=list_jobs),
    Rule("/v1/fine_tuning/jobs/<job_id>", methods=["GET"], endpoint=get_job),
    Rule("/v1/fine_tuning/jobs/<job_id>/cancel", methods=["POST"], endpoint=cancel_job),
    Rule("/v1/fine_tuning/jobs/<job_id>/pause", methods=["POST"], endpoint=pause_job),
    Rule("/v1/fine_tuning/jobs/<job_id>/resume", methods=["POST"], endpoint=resume_job),
    Rule("/v1/fine_tuning/jobs/<job_id>/events", methods=["GET"], endpoint=list_events),
    Rule("/v1/fine_tuning/jobs/<job_id>/checkpoints", methods=["GET"], endpoint=list_checkpoints),
]

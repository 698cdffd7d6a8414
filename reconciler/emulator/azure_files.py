"""Files in the Azure dialect: the shared `files_api` handlers, plus Azure's file statuses on
the clock (`pending`, `running`, then `processed`) and the per-resource file limits.

An uploaded file is not usable at once: a job may only name it once it is `processed`
(`unexpectedEntityState` before), so clients must poll it, as Azure's documentation says.
The dated API answers an upload with 201 and a `Location` header; v1 with 200.
"""

from __future__ import annotations

import os
from typing import Any

from werkzeug.wrappers import Request, Response

from reconciler.emulator import files_api
from reconciler.emulator.azure_errors import entity_state, quota
from reconciler.emulator.context import Context, json_response

PENDING_SECONDS = 2.0  # simulated time before processing starts
PROCESSED_SECONDS = 10.0  # simulated time from upload to processed
FINE_TUNE = "fine-tune"


def file_status(ctx: Context, created_at: float) -> str:
    sim = (ctx.now() - created_at) * ctx.speed
    if sim < PENDING_SECONDS:
        return "pending"
    return "running" if sim < PROCESSED_SECONDS else "processed"


def azure_file(ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's file object as Azure shows it: a status on the clock, no status_details."""
    status = "processed" if obj["purpose"] == "fine-tune-results" else file_status(
        ctx, obj["created_at"])
    return {**obj, "status": status, "status_details": None}


def require_processed(ctx: Context, file_id: Any, param: str) -> None:
    """Refuse a job naming a file Azure has not finished processing."""
    if not isinstance(file_id, str):
        return
    row = ctx.store.get_file(file_id)
    if row is None or row["job_id"] is not None:
        return  # the shared checks answer for missing files
    status = file_status(ctx, row["created_at"])
    if status != "processed":
        raise entity_state(f"The file {file_id} is not ready yet (status: {status}); wait "
                           "until its status is 'processed'.", param)


def create_file(ctx: Context, request: Request) -> Response:
    _check_room(ctx, request)
    obj = azure_file(ctx, files_api.create_file(ctx, request))
    if request.path.startswith("/openai/v1/"):
        return json_response(obj)
    return json_response(obj, 201, {"Location": f"{request.host_url}openai/files/{obj['id']}"})


def _check_room(ctx: Context, request: Request) -> None:
    """The per-resource count and total size of fine-tune files, checked before storing."""
    if request.form.get("purpose") != FINE_TUNE:
        return
    limits = ctx.resource().limits
    rows = ctx.store.list_files(purpose=FINE_TUNE, after=None, order="asc", limit=1_000_000)
    if len(rows) >= limits.files:
        files_api.discard_parts(request)
        raise quota(f"The resource already holds {len(rows)} fine-tuning files, the maximum; "
                    "delete files that are no longer needed.", "file")
    part = request.files.get("file")
    incoming = _size(part.stream) if part is not None else 0
    total = sum(r["bytes"] for r in rows) + incoming
    if total > limits.file_bytes:
        files_api.discard_parts(request)
        raise quota(f"Uploading {incoming} bytes would bring the fine-tuning files of this "
                    f"resource to {total} bytes, over the {limits.file_bytes}-byte limit; "
                    "delete files that are no longer needed.", "file")


def _size(stream: Any) -> int:
    position = stream.tell()
    size = int(stream.seek(0, os.SEEK_END))
    stream.seek(position)
    return size


def list_files(ctx: Context, request: Request) -> dict[str, Any]:
    out = files_api.list_files(ctx, request)
    return {**out, "data": [azure_file(ctx, f) for f in out["data"]]}


def get_file(ctx: Context, request: Request, file_id: str) -> dict[str, Any]:
    return azure_file(ctx, files_api.get_file(ctx, request, file_id))


def complete_upload(ctx: Context, request: Request, upload_id: str) -> dict[str, Any]:
    """The dated API's upload in parts: its file, too, is processed on the clock."""
    out = files_api.complete_upload(ctx, request, upload_id)
    return {**out, "file": azure_file(ctx, out["file"])}

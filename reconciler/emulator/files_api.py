"""Endpoints for files (`/files`) and large uploads in parts (`/uploads`).

Multipart bodies stream to disk (`StreamingRequest`), never into memory; completing an upload
concatenates its parts on disk in the order the client names them, hashing as it goes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from reconciler.emulator import answers, lifecycle
from reconciler.emulator.context import Context, json_body, limit_arg, new_id
from reconciler.emulator.errors import ApiError, invalid, not_found

MB = 1024 * 1024
FILE_LIMIT = 512 * MB
PART_LIMIT = 64 * MB
UPLOAD_LIMIT = 8 * 1024 * MB
UPLOAD_TTL = 3600
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_CHUNK = 1024 * 1024
_PARSE_CHUNK = 256 * 1024  # per parser call; under max_form_memory_size (500 kB) or werkzeug 413s


class _FullReads:
    """Reads that return the full amount asked for (until EOF): the multipart parser costs
    per chunk, and a socket hands over whatever has arrived, often a few kilobytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            return self._stream.read()
        parts, want = [], max(n, _PARSE_CHUNK)
        while want > 0 and (chunk := self._stream.read(want)):
            parts.append(chunk)
            want -= len(chunk)
        return b"".join(parts)


class StreamingRequest(Request):
    """A request whose multipart file parts are written straight to the blob folder."""

    blob_dir = tempfile.gettempdir()

    def _get_stream_for_parsing(self) -> IO[bytes]:
        return _FullReads(super()._get_stream_for_parsing())  # type: ignore[return-value]

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(  # noqa: SIM115 - handed to werkzeug, closed below
            "w+b", dir=self.blob_dir, prefix="incoming-", delete=False
        )


def _part_to_disk(request: Request, field: str, limit: int) -> tuple[FileStorage, str, int]:
    """The uploaded part `field`: (its FileStorage, the path of its bytes on disk, its size)."""
    if request.content_length is not None and request.content_length > limit + MB:
        raise invalid(f"The file is too large: the limit is {limit // MB} MB.", field)
    part = request.files.get(field)
    if part is None:
        discard_parts(request)
        raise invalid(f"Missing required multipart field '{field}'.", field)
    path = str(getattr(part.stream, "name", ""))
    part.stream.close()
    size = os.path.getsize(path)
    if size > limit:
        discard_parts(request)
        raise invalid(f"The file is too large: the limit is {limit // MB} MB.", field)
    return part, path, size


def discard_parts(request: Request) -> None:
    """Remove the spooled multipart parts of a request that is answered without storing them."""
    for part in request.files.values():
        name = getattr(part.stream, "name", None)
        part.stream.close()
        if isinstance(name, str) and os.path.exists(name):
            os.unlink(name)


def file_object(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    size = row["bytes"]
    if row["job_id"] is not None:
        job = ctx.store.get_job(row["job_id"])
        size = len(lifecycle.result_csv(job["doc"])) if job else 0
    return _file_object(row, size)


def _file_object(row: dict[str, Any], size: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "file",
        "bytes": size,
        "created_at": row["created_at"],
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": "processed",
    }


def _visible(ctx: Context, row: dict[str, Any]) -> bool:
    """Result files exist only once their job has succeeded."""
    if row["job_id"] is None:
        return True
    job = ctx.store.get_job(row["job_id"])
    return job is not None and ctx.view(job).status == "succeeded"


def _listed_object(ctx: Context, row: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """A listed file's answer (None: not visible) and whether it can still change: a file's
    cannot, nor a result file's once its job's success is recorded (a succeeded job stays so,
    its document is written once)."""
    if row["job_id"] is None:
        return _file_object(row, row["bytes"]), False
    job = ctx.store.get_job(row["job_id"])
    if job is None:
        return None, True
    recorded = job["reached_status"] == "succeeded"
    if ctx.view(job).status != "succeeded":
        return None, True
    return _file_object(row, len(lifecycle.result_csv(job["doc"]))), not recorded


def _file_or_404(ctx: Context, file_id: str) -> dict[str, Any]:
    row = ctx.store.get_file(file_id)
    if row is None or not _visible(ctx, row):
        raise not_found("file", file_id, "file_id")
    return row


def create_file(ctx: Context, request: Request) -> dict[str, Any]:
    part, path, size = _part_to_disk(request, "file", FILE_LIMIT)
    purpose = request.form.get("purpose")
    filename = os.path.basename(part.filename or "file")
    try:
        if purpose not in PURPOSES:
            raise invalid(f"Invalid purpose {purpose!r}: expected one of {PURPOSES}.", "purpose")
        if purpose == "fine-tune" and not filename.endswith(".jsonl"):
            raise invalid("Invalid file format for Fine-Tuning API. Must be .jsonl", "file")
    except ApiError:
        os.unlink(path)
        raise
    row = {"id": new_id("file-"), "created_at": int(ctx.now()), "bytes": size,
           "filename": filename, "purpose": purpose, "blob": os.path.basename(path)}
    ctx.store.insert_file(row)
    return file_object(ctx, {**row, "job_id": None})


def list_files(ctx: Context, request: Request) -> dict[str, Any]:
    """Visible files, newest first unless `order=asc`; a listed file's answer is kept (see
    `answers`). first_id and last_id are "" on an empty page: the contract types them as plain
    strings."""
    items, limit = _listed(ctx, request)
    return answers.envelope(items, limit, ids="")


def _listed(ctx: Context, request: Request) -> tuple[list[dict[str, Any]], int]:
    """Up to limit+1 visible files of the page asked for, and the limit."""
    limit = limit_arg(request, 10000, 10000)
    order = request.args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid order {order!r}: expected 'asc' or 'desc'.", "order")
    seqs = ctx.store.list_file_seqs(
        purpose=request.args.get("purpose"), after=request.args.get("after"),
        order=order, limit=limit + 1,
    )
    return ctx.settled_files.page(seqs, lambda missing: _built(ctx, missing)), limit


def _built(ctx: Context, seqs: list[int]) -> Iterator[tuple[int, dict[str, Any], bool]]:
    for seq, row in ctx.store.files_by_seq(seqs).items():  # a file deleted meanwhile: gone
        obj, may_change = _listed_object(ctx, row)
        if obj is not None:
            yield seq, obj, not may_change


def get_file(ctx: Context, request: Request, file_id: str) -> dict[str, Any]:
    return file_object(ctx, _file_or_404(ctx, file_id))


def delete_file(ctx: Context, request: Request, file_id: str) -> dict[str, Any]:
    _file_or_404(ctx, file_id)
    ctx.store.delete_file(file_id)
    return {"id": file_id, "object": "file", "deleted": True}


def file_content(ctx: Context, request: Request, file_id: str) -> Response:
    row = _file_or_404(ctx, file_id)
    if row["job_id"] is not None:
        job = ctx.job_or_404(row["job_id"])
        return Response(lifecycle.result_csv(job["doc"]), mimetype="application/octet-stream")
    fh = open(ctx.store.blob_path(row["blob"]), "rb")  # noqa: SIM115 - closed by the server
    body = wrap_file(request.environ, fh, _CHUNK)
    return Response(body, mimetype="application/octet-stream", direct_passthrough=True,
                    headers={"Content-Length": str(row["bytes"])})


# -- uploads ---------------------------------------------------------------------------------


def upload_object(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    status = row["status"]
    if status == "pending" and ctx.now() > row["expires_at"]:
        status = "expired"
    file_row = ctx.store.get_file(row["file_id"]) if row["file_id"] else None
    return {
        "id": row["id"], "object": "upload", "bytes": row["bytes"],
        "created_at": row["created_at"], "expires_at": row["expires_at"],
        "filename": row["filename"], "purpose": row["purpose"], "status": status,
        "file": file_object(ctx, file_row) if file_row else None,
    }


def _pending_upload(ctx: Context, upload_id: str) -> dict[str, Any]:
    row = ctx.store.get_upload(upload_id)
    if row is None:
        raise not_found("upload", upload_id, "upload_id")
    status = upload_object(ctx, row)["status"]
    if status != "pending":
        raise invalid(f"Upload {upload_id} is already {status}.", "upload_id")
    return row


def create_upload(ctx: Context, request: Request) -> dict[str, Any]:
    body = json_body(request)
    for key in ("bytes", "filename", "mime_type", "purpose"):
        if body.get(key) in (None, ""):
            raise invalid(f"Missing required parameter: '{key}'.", key)
    size = body["bytes"]
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= UPLOAD_LIMIT:
        raise invalid("'bytes' must be a positive integer of at most 8 GB.", "bytes")
    if body["purpose"] not in PURPOSES:
        raise invalid(f"Invalid purpose {body['purpose']!r}.", "purpose")
    now = int(ctx.now())
    row = {"id": new_id("upload_"), "created_at": now, "expires_at": now + UPLOAD_TTL,
           "bytes": size, "filename": str(body["filename"]), "purpose": body["purpose"],
           "mime_type": str(body["mime_type"])}
    ctx.store.insert_upload(row)
    return upload_object(ctx, {**row, "status": "pending", "file_id": None})


def add_part(ctx: Context, request: Request, upload_id: str) -> dict[str, Any]:
    try:
        _pending_upload(ctx, upload_id)
    except ApiError:
        discard_parts(request)
        raise
    _, path, size = _part_to_disk(request, "data", PART_LIMIT)
    row = {"id": new_id("part_"), "upload_id": upload_id, "created_at": int(ctx.now()),
           "bytes": size, "blob": os.path.basename(path)}
    ctx.store.insert_part(row)
    return {"id": row["id"], "object": "upload.part", "created_at": row["created_at"],
            "upload_id": upload_id}


def complete_upload(ctx: Context, request: Request, upload_id: str) -> dict[str, Any]:
    upload = _pending_upload(ctx, upload_id)
    body = json_body(request)
    part_ids = body.get("part_ids")
    if not isinstance(part_ids, list) or not part_ids:
        raise invalid("'part_ids' must be a non-empty list of part ids.", "part_ids")
    parts = {p["id"]: p for p in ctx.store.list_parts(upload_id)}
    unknown = [p for p in part_ids if p not in parts]
    if unknown or len(set(part_ids)) != len(part_ids):
        raise invalid(f"Unknown or repeated part ids: {unknown or part_ids}.", "part_ids")
    total = sum(parts[p]["bytes"] for p in part_ids)
    if total != upload["bytes"]:
        raise invalid(
            f"The upload declared {upload['bytes']} bytes but its parts hold {total}.", "part_ids"
        )
    blob, digest = _concatenate(ctx, [parts[p]["blob"] for p in part_ids])
    md5 = body.get("md5")
    if md5 and md5 != digest:
        os.unlink(ctx.store.blob_path(blob))
        raise invalid(f"md5 mismatch: the parts hash to {digest}.", "md5")
    file_row = {"id": new_id("file-"), "created_at": int(ctx.now()), "bytes": total,
                "filename": upload["filename"], "purpose": upload["purpose"], "blob": blob}
    ctx.store.complete_upload(upload_id, file_row)
    _drop_parts(ctx, upload_id)
    return upload_object(ctx, {**upload, "status": "completed", "file_id": file_row["id"]})


def _concatenate(ctx: Context, blobs: list[str]) -> tuple[str, str]:
    md5 = hashlib.md5(usedforsecurity=False)
    with tempfile.NamedTemporaryFile(
        "wb", dir=ctx.store.blob_dir, prefix="upload-", delete=False
    ) as out:
        for blob in blobs:
            with open(ctx.store.blob_path(blob), "rb") as src:
                while chunk := src.read(_CHUNK):
                    md5.update(chunk)
                    out.write(chunk)
    return os.path.basename(out.name), md5.hexdigest()


def _drop_parts(ctx: Context, upload_id: str) -> None:
    for part in ctx.store.list_parts(upload_id):
        path = ctx.store.blob_path(part["blob"])
        if os.path.exists(path):
            os.unlink(path)
    ctx.store.delete_parts(upload_id)


def cancel_upload(ctx: Context, request: Request, upload_id: str) -> dict[str, Any]:
    upload = _pending_upload(ctx, upload_id)
    ctx.store.set_upload_status(upload_id, "cancelled")
    _drop_parts(ctx, upload_id)
    return upload_object(ctx, {**upload, "status": "cancelled"})


RULES = [
    Rule("/v1/files", methods=["POST"], endpoint=create_file),
    Rule("/v1/files", methods=["GET"], endpoint=list_files),
    Rule("/v1/files/<file_id>", methods=["GET"], endpoint=get_file),
    Rule("/v1/files/<file_id>", methods=["DELETE"], endpoint=delete_file),
    Rule("/v1/files/<file_id>/content", methods=["GET"], endpoint=file_content),
    Rule("/v1/uploads", methods=["POST"], endpoint=create_upload),
    Rule("/v1/uploads/<upload_id>/parts", methods=["POST"], endpoint=add_part),
    Rule("/v1/uploads/<upload_id>/complete", methods=["POST"], endpoint=complete_upload),
    Rule("/v1/uploads/<upload_id>/cancel", methods=["POST"], endpoint=cancel_upload),
]

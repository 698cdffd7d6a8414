"""RemoteApi: the typed endpoints ftctl uses, raw JSON in, snapshot types out.

Every request goes through HttpClient's one retry loop; nothing here retries again. Writes that
are not safe to replay (create job, upload, complete upload, delete model) give that loop a
look-up that runs before each re-send (the job's `ftctl-op` metadata, the file's name and size,
whether the model still exists), so a response lost after the write committed never duplicates
it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reconciler.client.http import HttpClient
from reconciler.client.parse import (
    parse_checkpoint,
    parse_event,
    parse_file,
    parse_job,
    parse_model,
)
from reconciler.client.parts import PartFile, md5_of
from reconciler.errors import PermanentApiError, RetryableApiError
from reconciler.planner.identity import META_OP, META_WORKSPACE
from reconciler.snapshot import (
    Checkpoint,
    JobEvent,
    JobStatus,
    RemoteDeployment,
    RemoteFile,
    RemoteJob,
    RemoteModel,
    first_usable,
)

if TYPE_CHECKING:
    from reconciler.client.arm import ArmClient

Progress = Callable[[int, int], None]

JOBS_PAGE = 100
FILES_PAGE = 10_000  # the API's maximum and default page size
UPLOAD_THRESHOLD = 8 * 1024 * 1024  # above this, the Uploads API in parts
PART_SIZE = 8 * 1024 * 1024  # the API allows up to 64 MB; smaller parts bound memory
PART_WORKERS = 3  # at most PART_WORKERS * PART_SIZE bytes in memory at once
_GONE = object()
_DEAD = (JobStatus.FAILED, JobStatus.CANCELLED)


class RemoteApi:
    """The provider's files, fine-tuning jobs and models, as ftctl needs them."""

    arm: ArmClient | None = None  # deployments (Azure's control plane); None: the provider has none

    def __init__(
        self,
        http: HttpClient,
        *,
        upload_threshold: int = UPLOAD_THRESHOLD,
        part_size: int = PART_SIZE,
        part_workers: int = PART_WORKERS,
        jobs_page: int = JOBS_PAGE,
    ) -> None:
        self.http = http
        self.jobs_page = jobs_page
        self.upload_threshold = upload_threshold
        self.part_size = part_size
        self.part_workers = part_workers

    def __repr__(self) -> str:
        return f"RemoteApi({self.http!r})"

    def close(self) -> None:
        self.http.close()

    def stop(self) -> None:
        """Requests not yet sent are not sent, and waits between retries end: used when
        the answers of reads already started are no longer wanted."""
        self.http.stop()

    # -- reads -------------------------------------------------------------------------------

    def list_jobs(self, *, metadata: Mapping[str, str] | None = None) -> list[RemoteJob]:
        params: dict[str, Any] = {"limit": self.jobs_page}
        for key, value in (metadata or {}).items():
            params[f"metadata[{key}]"] = value
        return [parse_job(item) for item in self.http.paginate("fine_tuning/jobs", params)]

    def get_job(self, job_id: str) -> RemoteJob:
        return parse_job(self.http.request("GET", f"fine_tuning/jobs/{_seg(job_id)}"))

    def list_files(self, purpose: str | None = "fine-tune") -> list[RemoteFile]:
        params: dict[str, Any] = {"limit": FILES_PAGE}
        if purpose is not None:
            params["purpose"] = purpose
        return [parse_file(item) for item in self.http.paginate("files", params)]

    def list_models(self) -> list[RemoteModel]:
        # GET /models is not paginated; paginate() stops at the first page without has_more.
        return [parse_model(item) for item in self.http.paginate("models")]

    def list_deployments(self) -> list[RemoteDeployment] | None:
        """The provider's deployments; None: this provider serves models without them."""
        return None

    def get_model(self, model_id: str) -> RemoteModel:
        return parse_model(self.http.request("GET", f"models/{_seg(model_id)}"))

    def get_file(self, file_id: str) -> RemoteFile:
        return parse_file(self.http.request("GET", f"files/{_seg(file_id)}"))

    def read_file_json(self, file_id: str) -> dict[str, Any]:
        """The content of a small JSON file ftctl wrote (a gate verdict), parsed."""
        return self.http.request("GET", f"files/{_seg(file_id)}/content")

    def list_events(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[JobEvent]:
        """One page of events, newest first as the API returns them."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        page = self.http.request("GET", f"fine_tuning/jobs/{_seg(job_id)}/events", params=params)
        return [parse_event(item) for item in page.get("data") or []]

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        items = self.http.paginate(f"fine_tuning/jobs/{_seg(job_id)}/checkpoints", {"limit": 100})
        return [parse_checkpoint(item) for item in items]

    def find_job_by_operation(self, workspace: str, op_id: str) -> RemoteJob | None:
        """The job a create with this operation id made, if any (oldest when racing)."""
        jobs = self.list_jobs(metadata={META_WORKSPACE: workspace, META_OP: op_id})
        # Match locally too: the API does not document how several metadata keys combine.
        mine = [j for j in jobs if j.meta(META_OP) == op_id and j.meta(META_WORKSPACE) == workspace]
        if not mine:
            return None
        # The list is newest first, so a later position breaks a created_at tie (whole seconds).
        return min(enumerate(mine), key=lambda p: (p[1].created_at, -p[0]))[1]

    def find_file(self, filename: str, size: int, purpose: str = "fine-tune") -> RemoteFile | None:
        """An uploaded file with this name and byte size (content-addressed names)."""
        return first_usable(
            f for f in self.list_files(purpose) if f.filename == filename and f.bytes == size
        )

    # -- writes ------------------------------------------------------------------------------

    def create_job(self, body: dict[str, Any]) -> RemoteJob:
        """POST /fine_tuning/jobs; a lost response is resolved by the body's ftctl-op."""
        meta = body.get("metadata") or {}
        workspace, op_id = meta.get(META_WORKSPACE), meta.get(META_OP)
        lookup = None
        if workspace and op_id:
            def lookup() -> RemoteJob | None:
                job = self.find_job_by_operation(workspace, op_id)
                # A failed or cancelled job of an earlier run is not what this create made.
                return job if job is not None and job.status not in _DEAD else None
        return self.http.retrying(
            "POST fine_tuning/jobs",
            lambda: parse_job(self.http.request("POST", "fine_tuning/jobs", json=body)),
            lookup,
        )

    def cancel_job(self, job_id: str) -> RemoteJob:
        return parse_job(self.http.request("POST", f"fine_tuning/jobs/{_seg(job_id)}/cancel"))

    def pause_job(self, job_id: str) -> RemoteJob:
        return parse_job(self.http.request("POST", f"fine_tuning/jobs/{_seg(job_id)}/pause"))

    def resume_job(self, job_id: str) -> RemoteJob:
        return parse_job(self.http.request("POST", f"fine_tuning/jobs/{_seg(job_id)}/resume"))

    def delete_model(self, model_id: str) -> None:
        """DELETE /models/{id}; after a lost response, a model already gone counts as done."""

        def lookup() -> object | None:
            try:
                self.http.request("GET", f"models/{_seg(model_id)}")
            except PermanentApiError as exc:
                if exc.status == 404:
                    return _GONE
                raise
            return None

        self.http.retrying(f"DELETE models/{model_id}",
                           lambda: self.http.request("DELETE", f"models/{_seg(model_id)}"), lookup)

    def delete_job(self, job_id: str) -> None:
        """Only Azure OpenAI deletes a job (its dated API); OpenAI keeps every job listed."""
        raise PermanentApiError(
            f"cannot delete job {job_id}: this provider has no job delete (Azure OpenAI has)",
            status=405)

    def delete_file(self, file_id: str) -> None:
        """DELETE /files/{id}; a file already gone (e.g. after a lost answer) counts as done."""
        try:
            self.http.request("DELETE", f"files/{_seg(file_id)}")
        except PermanentApiError as exc:
            if exc.status != 404:
                raise

    def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        deployment: str | None = None,
    ) -> str:
        """One chat answer. `deployment` (Azure) addresses a deployment by name instead of the
        model: Azure serves models only through deployments."""
        body: dict[str, Any] = {"model": deployment or model, "messages": messages}
        _put_sampling(body, max_tokens, temperature)
        answer = self.http.request("POST", "chat/completions", json=body)
        choice = (answer.get("choices") or [{}])[0]
        return str((choice.get("message") or {}).get("content") or "")

    def complete(
        self,
        model: str,
        prompt: str,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        deployment: str | None = None,
    ) -> str:
        body: dict[str, Any] = {"model": deployment or model, "prompt": prompt}
        _put_sampling(body, max_tokens, temperature)
        answer = self.http.request("POST", "completions", json=body)
        return str((answer.get("choices") or [{}])[0].get("text") or "")

    # -- uploads -----------------------------------------------------------------------------

    def upload_file(
        self,
        path: str,
        *,
        filename: str,
        purpose: str = "fine-tune",
        on_progress: Progress | None = None,
    ) -> RemoteFile:
        """Upload a local file: POST /files when small, the Uploads API in parts when large."""
        size = os.path.getsize(path)
        if size > self.upload_threshold:
            return self._upload_in_parts(path, size, filename, purpose, on_progress)
        with open(path, "rb") as fh:
            payload = fh.read()
        result = self.http.retrying(
            "POST files",
            lambda: parse_file(self.http.request(
                "POST", "files", data={"purpose": purpose},
                files={"file": (filename, payload, "application/jsonl")})),
            lambda: self.find_file(filename, size, purpose),
        )
        if on_progress is not None:
            on_progress(size, size)
        return result

    def _upload_in_parts(
        self, path: str, size: int, filename: str, purpose: str, on_progress: Progress | None
    ) -> RemoteFile:
        upload = self.http.request("POST", "uploads", json={
            "bytes": size, "filename": filename, "purpose": purpose, "mime_type": "text/jsonl",
        })
        upload_id = str(upload["id"])
        try:
            part_ids = self._send_parts(path, size, upload_id, on_progress)
            body = {"part_ids": part_ids, "md5": md5_of(path)}
            return self.http.retrying(
                f"POST uploads/{upload_id}/complete",
                lambda: _completed_file(self.http.request(
                    "POST", f"uploads/{_seg(upload_id)}/complete", json=body)),
                lambda: self.find_file(filename, size, purpose),
            )
        except BaseException:
            self._cancel_upload(upload_id)
            raise

    def _send_parts(
        self, path: str, size: int, upload_id: str, on_progress: Progress | None
    ) -> list[str]:
        offsets = list(range(0, size, self.part_size))
        done = [0]
        lock = threading.Lock()

        def send(offset: int) -> str:
            with PartFile(path, offset, self.part_size) as chunk:  # streamed from disk
                part = self.http.request(
                    "POST", f"uploads/{_seg(upload_id)}/parts",
                    files={"data": ("upload", chunk, "application/octet-stream")},
                )
            with lock:
                done[0] += len(chunk)
                if on_progress is not None:
                    on_progress(done[0], size)
            return str(part["id"])

        pool = ThreadPoolExecutor(max_workers=max(1, self.part_workers))
        try:
            return list(pool.map(send, offsets))  # map keeps the part order
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on failure, send no further parts

    def _cancel_upload(self, upload_id: str) -> None:
        # Best effort: an abandoned upload expires after an hour anyway.
        with contextlib.suppress(RetryableApiError, PermanentApiError):
            self.http.request("POST", f"uploads/{_seg(upload_id)}/cancel", retry=False)


def _seg(ident: str) -> str:
    """One path segment: an id from a manifest cannot reach another endpoint ("../", "?").

    Colons stay as written, as the SDK sends them (ft:base:org:suffix:id).
    """
    segment = quote(ident, safe=":")
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


def _put_sampling(body: dict[str, Any], max_tokens: int | None, temperature: float | None) -> None:
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature


def _completed_file(upload: dict[str, Any]) -> RemoteFile:
    nested = upload.get("file")
    if not isinstance(nested, dict):
        raise PermanentApiError("the provider completed the upload but returned no file")
    return parse_file(nested)


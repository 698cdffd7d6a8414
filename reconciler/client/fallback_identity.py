"""Job identity where the provider does not keep job `metadata` (possible on Azure OpenAI).

ftctl recognises its jobs by their `ftctl-*` metadata. When a service drops it, the metadata
a job should have carried is kept in **identity records**: small files on the provider, named

    ftctl-identity.<workspace>.<token>.jsonl            written before the job is created
    ftctl-identity.<workspace>.<token>.<job id>.jsonl   written once the job exists (its claim)

where `<token>` stands for the job's operation id (`ftctl-op`). Both hold the same record:
the metadata and the manifest's suffix (Azure does not show a job's suffix back). Reading the
jobs, a job with a claim of this workspace gets that record; a job without one is not this
workspace's. Job objects are left as they are: nothing user-visible (suffix, seed) is borrowed.

A create whose answer was lost leaves a record without a claim. The job it made is then found
as the one unclaimed job (claimed by no workspace) with the same model and training file,
created no earlier than the record; it is claimed, so it is never created twice.

Records are content-determined (the same operation writes the same record), immutable, read
once per process, and shaped as a chat example so a service that checks fine-tune files
accepts them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.client.http import HttpClient
from reconciler.errors import PermanentApiError
from reconciler.planner.identity import META_OP
from reconciler.snapshot import RemoteFile, RemoteJob

RECORD_PREFIX = "ftctl-identity."
RECORD_SUFFIX = ".jsonl"
TOKEN_HEX = 16
RECORD_MARK = "ftctl identity record"  # the record's user turn; never a real example
_CLAIM = re.compile(r"\.(ftjob-[A-Za-z0-9_-]+)\.jsonl$")
CLOCK_SLACK = 5  # seconds: a job's created_at may trail the record's by the servers' rounding


def records_per_create(metadata_kept: bool | None) -> int:
    """At most how many record files one job create uploads: none when the service is known to
    keep metadata; otherwise the record before the create and the claim after it (AzureApi
    writes the claim only when the job came back without metadata)."""
    return 0 if metadata_kept is True else 2


def token_for(op_id: str) -> str:
    """The short, deterministic stand-in for one operation id in file names."""
    return hashlib.sha256(op_id.encode()).hexdigest()[:TOKEN_HEX]


def record_name(workspace: str, token: str, job_id: str | None = None) -> str:
    claim = f".{job_id}" if job_id else ""
    return f"{RECORD_PREFIX}{workspace}.{token}{claim}{RECORD_SUFFIX}"


def claimed_job(filename: str) -> str | None:
    """The job id a claim (of any workspace) names, or None for other files."""
    if not filename.startswith(RECORD_PREFIX):
        return None
    found = _CLAIM.search(filename)
    return found.group(1) if found else None


@dataclass(frozen=True, slots=True)
class Record:
    """What a job of this workspace should have carried: its metadata and its own suffix."""

    metadata: tuple[tuple[str, str], ...]
    suffix: str | None
    model: str  # the create's model and training file: what finds a job whose answer was lost
    training_file: str

    def line(self) -> bytes:
        doc = {"metadata": dict(self.metadata), "suffix": self.suffix, "model": self.model,
               "training_file": self.training_file}
        example = {"messages": [
            {"role": "system", "content": json.dumps(doc, sort_keys=True)},
            {"role": "user", "content": RECORD_MARK},
            {"role": "assistant", "content": "ok"},
        ]}
        return (json.dumps(example, sort_keys=True) + "\n").encode()

    @staticmethod
    def parse(raw: Mapping[str, Any]) -> Record | None:
        try:
            doc = json.loads(raw["messages"][0]["content"])
            metadata = tuple(sorted((str(k), str(v)) for k, v in doc["metadata"].items()))
            suffix = doc.get("suffix")
            model, training_file = str(doc["model"]), str(doc["training_file"])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None
        return Record(metadata, suffix if isinstance(suffix, str) else None, model,
                      training_file)

    @staticmethod
    def of_create(body: Mapping[str, Any]) -> Record:
        """The record of a create request body."""
        meta = body.get("metadata") or {}
        suffix = body.get("suffix")
        return Record(tuple(sorted((str(k), str(v)) for k, v in meta.items())),
                      suffix if isinstance(suffix, str) else None,
                      str(body.get("model") or ""), str(body.get("training_file") or ""))


Upload = Callable[[str, str], RemoteFile]  # (local path, remote file name) -> the file
ListFiles = Callable[[], list[RemoteFile]]


class IdentityRecords:
    """One workspace's identity records on the provider: written around a create, read back."""

    def __init__(self, http: HttpClient, workspace: str, *, list_files: ListFiles,
                 upload: Upload) -> None:
        self._http = http
        self._workspace = workspace
        self._list_files = list_files
        self._upload = upload
        self._lock = threading.Lock()
        self._by_file: dict[str, Record | None] = {}  # file id -> record (immutable, cached)

    def write(self, op_id: str, record: Record, job_id: str | None = None) -> None:
        """Make sure the record (or, with job_id, the claim) of this operation exists."""
        name = record_name(self._workspace, token_for(op_id), job_id)
        if any(f.filename == name and f.status != "error" for f in self._list_files()):
            return
        fd, path = tempfile.mkstemp(suffix=RECORD_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(record.line())
            self._upload(path, name)
        finally:
            os.unlink(path)

    def claims(self, files: list[RemoteFile]) -> dict[str, Record]:
        """This workspace's claimed jobs: job id -> record."""
        prefix = f"{RECORD_PREFIX}{self._workspace}."
        out: dict[str, Record] = {}
        for f in files:
            job_id = claimed_job(f.filename)
            if job_id is None or not f.filename.startswith(prefix) or job_id in out:
                continue
            record = self._read(f.id)
            if record is not None:
                out[job_id] = record
        return out

    def unclaimed_record(self, op_id: str, files: list[RemoteFile]) -> RemoteFile | None:
        """The record this operation wrote before its create, when no job has claimed it."""
        name = record_name(self._workspace, token_for(op_id))
        stem = name[:-len(RECORD_SUFFIX)] + "."
        if any(f.filename.startswith(stem) and claimed_job(f.filename) for f in files):
            return None
        found = [f for f in files if f.filename == name]
        return min(found, key=lambda f: f.created_at) if found else None

    def read(self, file: RemoteFile) -> Record | None:
        return self._read(file.id)

    def _read(self, file_id: str) -> Record | None:
        with self._lock:
            if file_id in self._by_file:
                return self._by_file[file_id]
        try:
            raw = self._http.request("GET", f"files/{file_id}/content")
        except PermanentApiError as exc:
            if exc.status != 404:
                raise
            raw = {}
        record = Record.parse(raw)
        with self._lock:
            self._by_file[file_id] = record
        return record


def restored(job: RemoteJob, claims: Mapping[str, Record]) -> RemoteJob:
    """The job as ftctl made it: its record's metadata where the service returned none, and
    the manifest's suffix where the service shows none."""
    record = claims.get(job.id)
    if record is None or job.metadata:
        return job
    return dataclasses.replace(job, metadata=record.metadata, suffix=job.suffix or record.suffix)


def orphan_of(record_file: RemoteFile, record: Record, jobs: list[RemoteJob],
              files: list[RemoteFile]) -> RemoteJob | None:
    """The job a create with a lost answer made: unclaimed by any workspace, same model and
    training file, created no earlier than the record. None unless exactly one fits."""
    claimed = {claimed_job(f.filename) for f in files}
    fits = [j for j in jobs
            if j.id not in claimed and not j.metadata and j.model == record.model
            and j.training_file == record.training_file
            and j.created_at >= record_file.created_at - CLOCK_SLACK]
    return fits[0] if len(fits) == 1 else None


def op_of(body: Mapping[str, Any]) -> str | None:
    meta = body.get("metadata") or {}
    op = meta.get(META_OP) if isinstance(meta, Mapping) else None
    return op if isinstance(op, str) else None

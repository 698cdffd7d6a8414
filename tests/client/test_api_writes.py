"""RemoteApi's write paths against MockTransport handlers: what a lost response does to a
create/upload/delete (looked up, never duplicated), and the Uploads API in parts."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import tracemalloc
from pathlib import Path

import httpx
import pytest

from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.errors import PermanentApiError, RetryableApiError

JOB = {
    "id": "ftjob-1", "object": "fine_tuning.job", "status": "validating_files",
    "model": "gpt-4o-mini", "training_file": "file-1", "created_at": 10, "seed": 3,
    "metadata": {"ftctl-workspace": "ws", "ftctl-op": "op-1"},
}


def api_for(handler: object, **kw: int) -> RemoteApi:
    http = HttpClient("https://api.example.test/v1", "sk-x", sleep=lambda s: None,
                      transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
                      rng=random.Random(1))
    return RemoteApi(http, **kw)


def lost(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                    request=request)


def test_create_job_lost_response_is_found_by_operation_id() -> None:
    posts: list[dict[str, object]] = []
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(json.loads(request.content))
            return lost(request)  # the job was created, the answer never arrived
        queries.append(str(request.url.query, "ascii"))
        return httpx.Response(200, json={"object": "list", "data": [JOB], "has_more": False})

    job = api_for(handler).create_job({"model": "gpt-4o-mini", "training_file": "file-1",
                                       "metadata": JOB["metadata"]})
    assert job.id == "ftjob-1" and len(posts) == 1
    assert "metadata%5Bftctl-op%5D=op-1" in queries[0]
    assert "metadata%5Bftctl-workspace%5D=ws" in queries[0]


def test_create_job_retried_when_nothing_was_created() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET":
            return httpx.Response(200, json={"data": [], "has_more": False})
        if calls.count("POST") == 1:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        return httpx.Response(200, json=JOB)

    assert api_for(handler).create_job({"metadata": JOB["metadata"]}).id == "ftjob-1"
    assert calls == ["POST", "GET", "POST"]


def test_find_job_by_operation_matches_locally_and_picks_oldest() -> None:
    other = dict(JOB, id="ftjob-0", metadata={"ftctl-workspace": "ws", "ftctl-op": "op-9"})
    later = dict(JOB, id="ftjob-2", created_at=20)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [later, other, JOB], "has_more": False})

    api = api_for(handler)
    found = api.find_job_by_operation("ws", "op-1")
    assert found is not None and found.id == "ftjob-1"
    assert api.find_job_by_operation("ws", "op-404") is None


def test_create_job_permanent_error_is_not_retried() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(400, json={"error": {"message": "bad model", "param": "model"}})

    with pytest.raises(PermanentApiError):
        api_for(handler).create_job({"metadata": JOB["metadata"]})
    assert calls == ["POST"]


def test_small_upload_lost_response_found_by_name_and_size(tmp_path: Path) -> None:
    data = b'{"messages": []}\n' * 3
    path = tmp_path / "train.jsonl"
    path.write_bytes(data)
    stored: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            assert b'name="purpose"' in request.content and b"fine-tune" in request.content
            stored.append({"id": "file-9", "filename": "ftctl-abc.jsonl", "bytes": len(data),
                           "purpose": "fine-tune", "created_at": 1})
            return lost(request)
        assert request.url.params["purpose"] == "fine-tune"
        return httpx.Response(200, json={"data": stored, "has_more": False})

    progress: list[tuple[int, int]] = []
    f = api_for(handler).upload_file(str(path), filename="ftctl-abc.jsonl",
                                     on_progress=lambda a, b: progress.append((a, b)))
    assert f.id == "file-9" and len(stored) == 1
    assert progress == [(len(data), len(data))]


class UploadsServer:
    """Just enough of the Uploads API to check parts, order, md5 and the completed file."""

    def __init__(self, fail_first_part: bool = False) -> None:
        self.parts: dict[str, bytes] = {}
        self.completed: dict[str, object] | None = None
        self.created: dict[str, object] | None = None
        self.cancelled = False
        self.fail_first_part = fail_first_part
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1/")
        if path == "uploads":
            self.created = json.loads(request.content)
            return httpx.Response(200, json={"id": "upload_1", "status": "pending"})
        if path.endswith("/parts"):
            return self._part(request)
        if path.endswith("/complete"):
            self.completed = json.loads(request.content)
            file = {"id": "file-big", "filename": "big.jsonl", "bytes": 10, "purpose": "fine-tune"}
            return httpx.Response(200, json={"id": "upload_1", "status": "completed",
                                             "file": file})
        if path.endswith("/cancel"):
            self.cancelled = True
            return httpx.Response(200, json={"id": "upload_1", "status": "cancelled"})
        return httpx.Response(404, json={"error": {"message": path}})

    def _part(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        marker = b"Content-Type: application/octet-stream\r\n\r\n"
        chunk = body[body.index(marker) + len(marker): body.rindex(b"\r\n--")]
        with self.lock:
            if self.fail_first_part:
                self.fail_first_part = False
                return httpx.Response(500, json={"error": {"message": "oops"}})
            part_id = f"part_{len(self.parts)}"
            self.parts[part_id] = chunk
        return httpx.Response(200, json={"id": part_id, "object": "upload.part"})


def test_large_upload_goes_in_ordered_parts_with_md5(tmp_path: Path) -> None:
    data = bytes(range(256)) * 41  # 10,496 bytes
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    server = UploadsServer(fail_first_part=True)
    progress: list[tuple[int, int]] = []
    api = api_for(server, upload_threshold=1000, part_size=1024, part_workers=3)
    f = api.upload_file(str(path), filename="big.jsonl",
                        on_progress=lambda a, b: progress.append((a, b)))
    assert f.id == "file-big"
    assert server.created == {"bytes": len(data), "filename": "big.jsonl",
                              "purpose": "fine-tune", "mime_type": "text/jsonl"}
    assert server.completed is not None
    order = server.completed["part_ids"]
    assert isinstance(order, list) and len(order) == 11
    assert b"".join(server.parts[p] for p in order) == data
    assert server.completed["md5"] == hashlib.md5(data).hexdigest()
    assert progress[-1] == (len(data), len(data))
    assert [a for a, _ in progress] == sorted(a for a, _ in progress)


def test_large_upload_cancelled_when_a_part_fails(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"x" * 5000)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/parts"):
            return httpx.Response(400, json={"error": {"message": "part rejected"}})
        return server(request)

    server = UploadsServer()
    with pytest.raises(PermanentApiError):
        api_for(handler, upload_threshold=1000, part_size=1024).upload_file(
            str(path), filename="big.jsonl")
    assert server.cancelled and server.completed is None


def test_delete_model_lost_response_then_gone_counts_as_done() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "DELETE":
            return lost(request)
        return httpx.Response(404, json={"error": {"message": "no such model"}})

    api_for(handler).delete_model("ft:gpt-4o-mini:org:x:1")
    assert calls == ["DELETE", "GET"]


def test_delete_model_gives_up_after_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(500)
        return httpx.Response(200, json={"id": "ft:x", "object": "model"})

    with pytest.raises(RetryableApiError):
        api_for(handler).delete_model("ft:x")


def test_find_job_by_operation_breaks_same_second_ties_by_list_order() -> None:
    newer = dict(JOB, id="ftjob-a")  # same created_at; listed first = created later
    older = dict(JOB, id="ftjob-z")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [newer, older], "has_more": False})

    found = api_for(handler).find_job_by_operation("ws", "op-1")
    assert found is not None and found.id == "ftjob-z"


def test_ids_are_one_path_segment() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json=dict(JOB, id="x"))

    api = api_for(handler)
    api.get_job("../../files?purpose=x")
    api.delete_model("ft:gpt-4o-mini:org::AbC123")
    api.get_job("..")
    assert paths == ["/v1/fine_tuning/jobs/..%2F..%2Ffiles%3Fpurpose%3Dx",
                     "/v1/models/ft:gpt-4o-mini:org::AbC123",
                     "/v1/fine_tuning/jobs/%2E%2E"]



class StreamingTransport(httpx.BaseTransport):
    """Consumes request bodies chunk by chunk, as a socket would (MockTransport reads them
    whole into memory first, which would hide what the client itself holds)."""

    def __init__(self) -> None:
        self.part_bytes = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        size = 0
        for chunk in request.stream:
            size += len(chunk)
        if request.url.path.endswith("/parts"):
            with self.lock:
                self.part_bytes += size
            return httpx.Response(200, json={"id": f"part_{size}"})
        if request.url.path.endswith("/complete"):
            return httpx.Response(200, json={"id": "u", "file": {"id": "file-1", "bytes": 1}})
        return httpx.Response(200, json={"id": "upload_1"})


def test_large_upload_memory_is_bounded_by_parts(tmp_path: Path) -> None:
    part = 1024 * 1024
    path = tmp_path / "big.jsonl"
    with open(path, "wb") as fh:
        for _ in range(24):  # 24 MB
            fh.write(b"x" * part)
    transport = StreamingTransport()
    http = HttpClient("https://api.example.test/v1", "sk-x", transport=transport)
    api = RemoteApi(http, upload_threshold=part, part_size=part, part_workers=3)
    tracemalloc.start()
    try:
        api.upload_file(str(path), filename="big.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert transport.part_bytes > path.stat().st_size  # every part went out (plus framing)
    assert peak < 2 * part  # parts stream from disk: not even one whole part in memory

"""Files and the Uploads API over HTTP (in-process)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx


def post_file(http: httpx.Client, name: str, data: bytes, purpose: str = "fine-tune") -> Any:
    return http.post("/files", files={"file": (name, data)}, data={"purpose": purpose})


def start_upload(http: httpx.Client, size: int, name: str = "big.jsonl") -> str:
    r = http.post("/uploads", json={"bytes": size, "filename": name, "purpose": "fine-tune",
                                    "mime_type": "application/jsonl"})
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    return str(r.json()["id"])


def add_part(http: httpx.Client, upload_id: str, data: bytes) -> str:
    r = http.post(f"/uploads/{upload_id}/parts", files={"data": ("upload", data)})
    assert r.status_code == 200 and r.json()["object"] == "upload.part", r.text
    return str(r.json()["id"])


def test_file_roundtrip_list_and_delete(emulator_http):
    ids = [post_file(emulator_http, f"d{i}.jsonl", b"{}\n" * (i + 1)).json()["id"]
           for i in range(3)]
    other = post_file(emulator_http, "notes.txt", b"hello", purpose="user_data").json()["id"]
    assert emulator_http.get(f"/files/{ids[1]}/content").content == b"{}\n" * 2
    listed = emulator_http.get("/files", params={"purpose": "fine-tune"}).json()
    assert [f["id"] for f in listed["data"]] == ids[::-1] and other not in listed["data"]
    asc = emulator_http.get("/files", params={"order": "asc", "limit": 2}).json()
    assert [f["id"] for f in asc["data"]] == ids[:2] and asc["has_more"]
    rest = emulator_http.get("/files", params={"order": "asc", "after": asc["last_id"]}).json()
    assert [f["id"] for f in rest["data"]] == [ids[2], other] and not rest["has_more"]
    gone = emulator_http.delete(f"/files/{ids[0]}").json()
    assert gone == {"id": ids[0], "object": "file", "deleted": True}
    assert emulator_http.get(f"/files/{ids[0]}").status_code == 404


def test_file_request_errors(emulator_http):
    wrong = post_file(emulator_http, "data.csv", b"a,b\n")
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "file"
    bad_purpose = post_file(emulator_http, "d.jsonl", b"{}\n", purpose="nope")
    assert bad_purpose.json()["error"]["param"] == "purpose"
    missing = emulator_http.post("/files", data={"purpose": "fine-tune"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"


def test_upload_in_parts_orders_by_part_ids_and_checks_md5(emulator_http):
    chunks = [b"a" * 1000, b"b" * 500, b"c" * 10]
    upload = start_upload(emulator_http, sum(map(len, chunks)))
    ids = [add_part(emulator_http, upload, c) for c in reversed(chunks)][::-1]
    whole = b"".join(chunks)
    bad = emulator_http.post(f"/uploads/{upload}/complete",
                             json={"part_ids": ids, "md5": "0" * 32})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "md5"
    done = emulator_http.post(f"/uploads/{upload}/complete",
                              json={"part_ids": ids, "md5": hashlib.md5(whole).hexdigest()})
    body = done.json()
    assert body["status"] == "completed" and body["file"]["bytes"] == len(whole)
    assert emulator_http.get(f"/files/{body['file']['id']}/content").content == whole
    late = emulator_http.post(f"/uploads/{upload}/parts", files={"data": ("upload", b"x")})
    assert late.status_code == 400 and late.json()["error"]["param"] == "upload_id"


def test_upload_size_mismatch_cancel_and_expiry(emulator_http, fake_clock):
    upload = start_upload(emulator_http, 100)
    part = add_part(emulator_http, upload, b"x" * 10)
    short = emulator_http.post(f"/uploads/{upload}/complete", json={"part_ids": [part]})
    assert short.status_code == 400 and "100" in short.json()["error"]["message"]
    cancelled = emulator_http.post(f"/uploads/{upload}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["file"] is None
    again = emulator_http.post(f"/uploads/{upload}/cancel")
    assert again.status_code == 400
    stale = start_upload(emulator_http, 10)
    fake_clock.advance(3601)
    expired = emulator_http.post(f"/uploads/{stale}/parts", files={"data": ("upload", b"x")})
    assert expired.status_code == 400 and "expired" in expired.json()["error"]["message"]
    too_big = emulator_http.post("/uploads", json={"bytes": 9 * 1024**3, "filename": "a.jsonl",
                                                  "purpose": "fine-tune", "mime_type": "x"})
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "bytes"


def test_upload_parts_stream_to_disk(emulator_app, emulator_http):
    upload = start_upload(emulator_http, 3 * 1024 * 1024)
    add_part(emulator_http, upload, b"z" * (3 * 1024 * 1024))
    import os

    blobs = os.listdir(emulator_app.store.blob_dir)
    assert any(os.path.getsize(os.path.join(emulator_app.store.blob_dir, b)) == 3 * 1024 * 1024
               for b in blobs)


def raw_post(app, path: str, announced: int) -> tuple[str, dict[str, Any]]:
    """POST straight to the WSGI app announcing a body larger than what is sent."""
    import json

    from werkzeug.test import EnvironBuilder

    env = EnvironBuilder(path=path, method="POST", data=b"--x--\r\n",
                         content_type="multipart/form-data; boundary=x",
                         headers={"Authorization": "Bearer sk-test"}).get_environ()
    env["CONTENT_LENGTH"] = str(announced)
    status: list[str] = []
    body = b"".join(app(env, lambda s, h, exc_info=None: status.append(s)))
    return status[0], json.loads(body)


def test_size_limits_answer_400_before_reading_the_body(emulator_app, emulator_http):
    status, body = raw_post(emulator_app, "/v1/files", 600 * 1024 * 1024)
    assert status.startswith("400") and body["error"]["param"] == "file"
    upload = start_upload(emulator_http, 100 * 1024 * 1024)
    status, body = raw_post(emulator_app, f"/v1/uploads/{upload}/parts", 70 * 1024 * 1024)
    assert status.startswith("400") and body["error"]["param"] == "data"

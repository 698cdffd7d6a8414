"""The emulator on a real loopback socket: dropped connections, restart survival, and the
`ftctl emulator serve` process (ready line, clean stop on SIGINT and SIGTERM)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.server import start_in_background

BASE = "gpt-4o-mini-2024-07-18"
AUTH = {"Authorization": "Bearer sk-test"}


def upload(http: httpx.Client, path: Path) -> str:
    with path.open("rb") as fh:
        r = http.post("/files", files={"file": ("t.jsonl", fh)}, data={"purpose": "fine-tune"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def test_loopback_server_answers_with_request_ids(emulator_server):
    assert emulator_server.base_url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=emulator_server.base_url, headers=AUTH) as http:
        r = http.get("/models")
    assert r.status_code == 200 and r.headers["x-request-id"].startswith("req_")


def test_state_survives_a_restart_and_lost_answers_commit(tmp_path, chat_dataset):
    db = str(tmp_path / "state.db")
    with start_in_background(db, api_key="sk-test", speed=1000.0) as server, httpx.Client(
        base_url=server.base_url, headers=AUTH
    ) as http:
        fid = upload(http, chat_dataset)
    with start_in_background(db, api_key="sk-test", faults="lost:1.0") as server, httpx.Client(
        base_url=server.base_url, headers=AUTH
    ) as http, pytest.raises(httpx.TransportError):
        http.post("/fine_tuning/jobs", json={"model": BASE, "training_file": fid,
                                             "metadata": {"op": "lost-1"}})
    with start_in_background(db, api_key="sk-test", speed=1e6) as server, httpx.Client(
        base_url=server.base_url, headers=AUTH
    ) as http:
        assert http.get(f"/files/{fid}").json()["id"] == fid
        jobs = http.get("/fine_tuning/jobs", params={"metadata[op]": "lost-1"}).json()["data"]
        assert len(jobs) == 1 and jobs[0]["status"] == "succeeded"
        model = jobs[0]["fine_tuned_model"]
        assert model in {m["id"] for m in http.get("/models").json()["data"]}


def test_reset_closes_the_socket_without_an_answer(tmp_path):
    with start_in_background(str(tmp_path / "r.db"), api_key="sk-test",
                             faults="reset:1.0") as server, httpx.Client(
        base_url=server.base_url, headers=AUTH
    ) as http, pytest.raises(httpx.TransportError):
        http.get("/models")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_ready_line_and_stops_cleanly(tmp_path, sig):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0",
         "--db", str(tmp_path / "serve.db"), "--api-key", "sk-secret-key", "--speed", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:") and line.endswith("/v1")
        url = line.removeprefix("listening on ")
        with httpx.Client(base_url=url,
                          headers={"Authorization": "Bearer sk-secret-key"}) as http:
            assert http.get("/models").status_code == 200
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "sk-secret-key" not in out + err + line


def test_serve_refuses_a_bad_fault_spec(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0",
         "--db", str(tmp_path / "x.db"), "--faults", "explode:0.5"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1 and "--faults" in proc.stderr


def test_concurrent_requests_are_safe(emulator_server, chat_dataset):
    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(base_url=emulator_server.base_url, headers=AUTH) as http:
        fid = upload(http, chat_dataset)

    def work(n: int) -> str:
        with httpx.Client(base_url=emulator_server.base_url, headers=AUTH) as http:
            r = http.post("/fine_tuning/jobs", json={
                "model": BASE, "training_file": fid, "metadata": {"batch": "c", "n": str(n)}})
            assert r.status_code == 200, r.text
            http.get("/fine_tuning/jobs", params={"metadata[batch]": "c"}).raise_for_status()
            return str(r.json()["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(work, range(40)))
    with httpx.Client(base_url=emulator_server.base_url, headers=AUTH) as http:
        listed = http.get("/fine_tuning/jobs", params={"metadata[batch]": "c", "limit": 100})
    assert sorted(j["id"] for j in listed.json()["data"]) == sorted(ids)
    assert len(set(ids)) == 40


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request and read exactly one answer (headers, then Content-Length bytes)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def _get(path: str, host: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer sk-test\r\n\r\n"
            .encode())


def test_one_connection_carries_many_requests_without_a_body(emulator_server):
    # A refresh of 200 pages is one TCP connection, as with real providers.
    host = f"{emulator_server.host}:{emulator_server.port}"
    with socket.create_connection((emulator_server.host, emulator_server.port)) as sock:
        for path in ("/v1/models", "/v1/fine_tuning/jobs?limit=1", "/v1/files", "/v1/nope"):
            head = _exchange(sock, _get(path, host))
            assert b"connection: close" not in head.lower(), head
            assert head.startswith(b"HTTP/1.1 200") or path == "/v1/nope", head


def test_a_request_with_a_body_is_answered_and_its_connection_closed(emulator_server):
    # werkzeug cannot drain an unread body safely before the next request: it closes.
    host = f"{emulator_server.host}:{emulator_server.port}"
    body = b'{"model": "nope"}'
    post = (f"POST /v1/fine_tuning/jobs HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer sk-test\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((emulator_server.host, emulator_server.port)) as sock:
        head = _exchange(sock, post)
        assert head.startswith(b"HTTP/1.1 400") and b"connection: close" in head.lower(), head
        sock.settimeout(10)
        assert sock.recv(1) == b""  # closed by the server


def test_a_client_asking_to_close_is_closed(emulator_server):
    host = f"{emulator_server.host}:{emulator_server.port}"
    request = _get("/v1/models", host).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    with socket.create_connection((emulator_server.host, emulator_server.port)) as sock:
        _exchange(sock, request)
        sock.settimeout(10)
        assert sock.recv(1) == b""


def test_reset_on_a_kept_alive_connection_drops_it(tmp_path):
    with start_in_background(str(tmp_path / "k.db"), api_key="sk-test",
                             faults="reset:1.0") as server, socket.create_connection(
        (server.host, server.port)
    ) as sock:
        sock.sendall(_get("/v1/models", f"{server.host}:{server.port}"))
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1) == b""


def test_stopping_closes_kept_alive_connections(tmp_path):
    server = start_in_background(str(tmp_path / "s.db"), api_key="sk-test")
    with socket.create_connection((server.host, server.port)) as sock:
        _exchange(sock, _get("/v1/models", f"{server.host}:{server.port}"))
        server.stop()
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1) == b""  # no handler of a stopped server answers it

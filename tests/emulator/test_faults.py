"""Fault injection (in-process), the concurrency cap, and the emulator's code boundaries."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.faults import FaultSpecError, parse

BASE = "gpt-4o-mini-2024-07-18"
PACKAGE = Path(__file__).resolve().parents[2] / "reconciler" / "emulator"


def client(transport: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(transport=transport, base_url="http://emulator.test/v1",
                        headers={"Authorization": "Bearer sk-test"})


def upload(http: httpx.Client, path: Path) -> str:
    with path.open("rb") as fh:
        r = http.post("/files", files={"file": ("t.jsonl", fh)}, data={"purpose": "fine-tune"})
    return str(r.json()["id"])


@pytest.mark.parametrize("spec", ["429", "bogus:0.1", "500:x", "500:1.5", "429:0.6,500:0.6"])
def test_bad_fault_specs_are_refused(spec):
    with pytest.raises(FaultSpecError):
        parse(spec)


def test_faults_are_reproducible_with_a_seed(make_emulator, tmp_path):
    runs = []
    for n in range(2):
        _, transport = make_emulator(faults="429:0.3,500:0.2", seed=7,
                                     db_path=str(tmp_path / f"r{n}.db"))
        with client(transport) as http:
            runs.append([http.get("/models").status_code for _ in range(40)])
    assert runs[0] == runs[1] and {429, 500, 200} == set(runs[0])


def test_429_carries_retry_after_and_error_body(make_emulator):
    _, transport = make_emulator(faults="429:1.0")
    with client(transport) as http:
        r = http.get("/models")
    assert r.status_code == 429 and float(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "rate_limit_exceeded"


def test_lost_commits_the_write_but_never_answers(make_emulator, chat_dataset):
    _, clean = make_emulator()
    with client(clean) as http:
        fid = upload(http, chat_dataset)
    _, lossy = make_emulator(faults="lost:1.0")
    with client(lossy) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post("/fine_tuning/jobs", json={"model": BASE, "training_file": fid,
                                             "metadata": {"op": "x1"}})
    with client(clean) as http:
        found = http.get("/fine_tuning/jobs", params={"metadata[op]": "x1"}).json()["data"]
    assert len(found) == 1


def test_reset_drops_before_any_write(make_emulator, chat_dataset):
    _, clean = make_emulator()
    with client(clean) as http:
        fid = upload(http, chat_dataset)
    _, dropping = make_emulator(faults="reset:1.0")
    with client(dropping) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post("/fine_tuning/jobs", json={"model": BASE, "training_file": fid})
    with client(clean) as http:
        assert http.get("/fine_tuning/jobs").json()["data"] == []


def test_concurrency_cap_keeps_later_jobs_queued(make_emulator, fake_clock, chat_dataset):
    _, transport = make_emulator(max_running=1)
    with client(transport) as http:
        fid = upload(http, chat_dataset)
        a, b = (http.post("/fine_tuning/jobs", json={"model": BASE, "training_file": fid})
                .json()["id"] for _ in range(2))

        def statuses() -> tuple[str, str]:
            return tuple(http.get(f"/fine_tuning/jobs/{j}").json()["status"]  # type: ignore
                         for j in (a, b))

        fake_clock.advance(30)
        assert statuses() == ("running", "queued")
        seen = set()
        for _ in range(300):
            fake_clock.advance(1)
            seen.add(statuses())
        assert ("succeeded", "running") in seen
        assert ("running", "running") not in seen
        assert statuses() == ("succeeded", "succeeded")


def test_sqlite3_is_imported_only_in_store():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.split(".")[0] == "sqlite3" for n in names) and path.name != "store.py":
                offenders.append(path.name)
    assert offenders == []


def test_emulator_imports_nothing_else_from_reconciler():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reconciler"):
                assert (node.module or "").startswith("reconciler.emulator"), path.name
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("reconciler") or alias.name.startswith(
                        "reconciler.emulator"), path.name

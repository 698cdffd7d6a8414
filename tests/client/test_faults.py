"""The client against a faulty emulator (429, 5xx, resets, responses lost after the write
committed): every create and upload lands exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.planner.identity import META_OP, META_WORKSPACE

FAULTS = "429:0.1,500:0.1,503:0.05,reset:0.1,lost:0.15"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_creates_and_uploads_land_once_under_faults(
    seed: int, make_api: Any, make_emulator: Any, write_chat: Any, tmp_path: Path
) -> None:
    _, faulty = make_emulator(faults=FAULTS, seed=seed)
    api = make_api(transport=faulty, jobs_page=3)
    api.http.max_retries = 12  # enough that a 45% fault rate never exhausts the budget
    files = [
        api.upload_file(str(write_chat(tmp_path / f"d{i}.jsonl", n=10 + i)),
                        filename=f"ftctl-{i}.jsonl")
        for i in range(4)
    ]
    jobs = [
        api.create_job({"model": "gpt-4o-mini-2024-07-18", "training_file": files[i % 4].id,
                        "metadata": {META_WORKSPACE: "ws", META_OP: f"op-{i}"}})
        for i in range(8)
    ]
    clean = make_api()  # the same database, no faults
    listed = clean.list_jobs(metadata={META_WORKSPACE: "ws"})
    assert sorted(j.meta(META_OP) or "" for j in listed) == [f"op-{i}" for i in range(8)]
    assert {j.id for j in listed} == {j.id for j in jobs}
    names = sorted(f.filename for f in clean.list_files())
    assert names == [f"ftctl-{i}.jsonl" for i in range(4)]
    assert api.http.request_count > len(files) + len(jobs)  # faults really happened

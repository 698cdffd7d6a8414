"""Jobs over HTTP (in-process): lifecycle on the clock, metadata filter, pagination, cancel,
pause/resume, events, checkpoints, continuing from a fine-tuned model, and request errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

BASE = "gpt-4o-mini-2024-07-18"


def upload(http: httpx.Client, path: Path, name: str = "train.jsonl") -> str:
    with path.open("rb") as fh:
        r = http.post("/files", files={"file": (name, fh)}, data={"purpose": "fine-tune"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def create(http: httpx.Client, file_id: str, **extra: Any) -> dict[str, Any]:
    r = http.post("/fine_tuning/jobs", json={"model": BASE, "training_file": file_id, **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_job_moves_through_statuses_on_the_clock(emulator_http, fake_clock, chat_dataset):
    job = create(emulator_http, upload(emulator_http, chat_dataset), suffix="bot")
    seen = [job["status"]]
    for _ in range(400):
        fake_clock.advance(1)
        status = emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["validating_files", "queued", "running", "succeeded"]
    done = emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()
    assert done["fine_tuned_model"].startswith(f"ft:{BASE}:emulator:bot:")
    assert done["trained_tokens"] > 0 and done["finished_at"] is not None
    csv = emulator_http.get(f"/files/{done['result_files'][0]}/content").text
    assert csv.startswith("step,train_loss")


def test_events_show_falling_loss_and_checkpoints(emulator_http, fake_clock, chat_dataset):
    job = create(emulator_http, upload(emulator_http, chat_dataset))
    fake_clock.advance(10_000)
    events = emulator_http.get(f"/fine_tuning/jobs/{job['id']}/events",
                               params={"limit": 100}).json()["data"]
    losses = [e["data"]["train_loss"] for e in reversed(events) if e.get("type") == "metrics"]
    assert len(losses) >= 5 and losses == sorted(losses, reverse=True)
    assert events[0]["message"] == "The job has successfully completed"
    assert events[-1]["message"].startswith("Created fine-tuning job")
    page1 = emulator_http.get(f"/fine_tuning/jobs/{job['id']}/events", params={"limit": 3}).json()
    page2 = emulator_http.get(f"/fine_tuning/jobs/{job['id']}/events",
                              params={"limit": 3, "after": page1["data"][-1]["id"]}).json()
    assert page1["has_more"] and [e["id"] for e in page2["data"]] == [e["id"] for e in events[3:6]]
    ckpts = emulator_http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
    assert len(ckpts) == 3 and ckpts[0]["step_number"] > ckpts[-1]["step_number"]


def test_metadata_filter_and_cursor_pagination(emulator_http, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    ours = [create(emulator_http, fid, metadata={"ws": "a", "n": str(i)})["id"] for i in range(5)]
    create(emulator_http, fid, metadata={"ws": "b"})
    create(emulator_http, fid)
    got, after = [], None
    while True:
        params: dict[str, Any] = {"metadata[ws]": "a", "limit": 2}
        if after:
            params["after"] = after
        body = emulator_http.get("/fine_tuning/jobs", params=params).json()
        got += [j["id"] for j in body["data"]]
        if not body["has_more"]:
            break
        after = body["data"][-1]["id"]
    assert got == ours[::-1]
    both = emulator_http.get("/fine_tuning/jobs", params={"metadata[ws]": "a", "metadata[n]": "3"})
    assert [j["id"] for j in both.json()["data"]] == [ours[3]]
    null = emulator_http.get("/fine_tuning/jobs", params={"metadata": "null"}).json()["data"]
    assert len(null) == 1 and null[0]["metadata"] is None


def test_cancel_pause_resume(emulator_http, fake_clock, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    job = create(emulator_http, fid)
    fake_clock.advance(30)
    assert emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "running"
    paused = emulator_http.post(f"/fine_tuning/jobs/{job['id']}/pause").json()
    assert paused["status"] == "paused"
    fake_clock.advance(10_000)
    assert emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "paused"
    assert emulator_http.post(f"/fine_tuning/jobs/{job['id']}/resume").json()["status"] == "running"
    fake_clock.advance(10_000)
    assert emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "succeeded"
    again = emulator_http.post(f"/fine_tuning/jobs/{job['id']}/cancel")
    assert again.status_code == 400 and again.json()["error"]["code"] == "job_not_cancellable"
    other = create(emulator_http, fid)
    cancelled = emulator_http.post(f"/fine_tuning/jobs/{other['id']}/cancel").json()
    fake_clock.advance(10_000)
    final = emulator_http.get(f"/fine_tuning/jobs/{other['id']}").json()
    assert cancelled["status"] == final["status"] == "cancelled"
    assert final["fine_tuned_model"] is None


def test_continue_from_fine_tuned_model(emulator_http, fake_clock, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    first = create(emulator_http, fid, suffix="v1")
    fake_clock.advance(10_000)
    ft = emulator_http.get(f"/fine_tuning/jobs/{first['id']}").json()["fine_tuned_model"]
    second = create(emulator_http, fid, model=ft, suffix="v2")
    assert second["model"] == ft
    fake_clock.advance(10_000)
    ft2 = emulator_http.get(f"/fine_tuning/jobs/{second['id']}").json()["fine_tuned_model"]
    assert ft2.startswith(f"ft:{BASE}:emulator:v2:")


def test_invalid_dataset_fails_in_validation(emulator_http, fake_clock, tmp_path):
    few = tmp_path / "few.jsonl"
    few.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"},
                                            {"role": "assistant", "content": "yo"}]}) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    legacy = tmp_path / "pc.jsonl"
    legacy.write_text("".join(json.dumps({"prompt": "a", "completion": "b"}) + "\n"
                              for _ in range(12)))
    jobs = [create(emulator_http, upload(emulator_http, p)) for p in (few, bad, legacy)]
    fake_clock.advance(10_000)
    for job, needle in zip(jobs, ("at least 10", "Line 1", "chat"), strict=True):
        got = emulator_http.get(f"/fine_tuning/jobs/{job['id']}").json()
        assert got["status"] == "failed"
        assert got["error"]["code"] == "invalid_training_file"
        assert got["error"]["param"] == "training_file" and needle in got["error"]["message"]


def test_request_errors_name_the_param(emulator_http, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    cases = [
        ({"model": BASE}, "training_file"),
        ({"model": "no-such-model", "training_file": fid}, "model"),
        ({"model": BASE, "training_file": "file-nope"}, "training_file"),
        ({"model": BASE, "training_file": fid, "suffix": "x" * 65}, "suffix"),
        ({"model": BASE, "training_file": fid, "metadata": {str(i): "v" for i in range(17)}},
         "metadata"),
        ({"model": BASE, "training_file": fid, "metadata": {"k": "v" * 513}}, "metadata"),
        ({"model": BASE, "training_file": fid, "method": {"type": "supervised", "supervised":
          {"hyperparameters": {"n_epochs": 0}}}}, "method.supervised.hyperparameters.n_epochs"),
    ]
    for body, param in cases:
        r = emulator_http.post("/fine_tuning/jobs", json=body)
        assert r.status_code == 400, body
        assert r.json()["error"]["param"] == param
        assert r.json()["error"]["type"] == "invalid_request_error"
    missing = emulator_http.get("/fine_tuning/jobs/ftjob-nope")
    assert missing.status_code == 404 and missing.headers["x-request-id"].startswith("req_")


def test_bad_validation_file_and_wrong_method_format(emulator_http, fake_clock, chat_dataset,
                                                     tmp_path):
    good = upload(emulator_http, chat_dataset)
    bad = tmp_path / "valid.jsonl"
    bad.write_text("[1, 2]\n" * 12)
    with_bad_valid = create(emulator_http, good, validation_file=upload(emulator_http, bad))
    dpo = create(emulator_http, good, method={"type": "dpo"})
    fake_clock.advance(10_000)
    got = emulator_http.get(f"/fine_tuning/jobs/{with_bad_valid['id']}").json()
    assert got["status"] == "failed" and got["error"]["param"] == "validation_file"
    assert got["error"]["code"] == "invalid_validation_file"
    got = emulator_http.get(f"/fine_tuning/jobs/{dpo['id']}").json()
    assert got["status"] == "failed" and "input" in got["error"]["message"]
    events = emulator_http.get(f"/fine_tuning/jobs/{dpo['id']}/events").json()["data"]
    assert events[0]["level"] == "error"


def test_a_deleted_model_cannot_be_continued(emulator_http, fake_clock, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    first = create(emulator_http, fid)
    fake_clock.advance(10_000)
    ft = emulator_http.get(f"/fine_tuning/jobs/{first['id']}").json()["fine_tuned_model"]
    emulator_http.delete(f"/models/{ft}")
    r = emulator_http.post("/fine_tuning/jobs", json={"model": ft, "training_file": fid})
    assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_available"


def test_deprecated_hyperparameters_and_resolved_autos(emulator_http, chat_dataset):
    fid = upload(emulator_http, chat_dataset)
    legacy = create(emulator_http, fid, hyperparameters={"n_epochs": 2, "batch_size": 4})
    assert legacy["method"]["type"] == "supervised"
    assert legacy["method"]["supervised"]["hyperparameters"]["n_epochs"] == 2
    assert legacy["hyperparameters"]["batch_size"] == 4
    auto = create(emulator_http, fid, seed=42, method={"type": "dpo", "dpo": {
        "hyperparameters": {"beta": "auto", "n_epochs": "auto"}}})
    hp = auto["method"]["dpo"]["hyperparameters"]
    assert hp["beta"] == 0.1 and isinstance(hp["n_epochs"], int) and auto["seed"] == 42
    server_seed = create(emulator_http, fid)["seed"]
    assert isinstance(server_seed, int) and 0 <= server_seed <= 2147483647


def test_listing_answers_match_retrieve_as_jobs_finish(emulator_http, fake_clock, chat_dataset):
    """The list keeps a finished job's answer between listings: every listing, before and after
    jobs finish and repeated, must show what retrieving each job shows."""
    fid = upload(emulator_http, chat_dataset)
    ids = [create(emulator_http, fid, metadata={"ws": "a"}, suffix=f"s{i}")["id"]
           for i in range(3)]
    emulator_http.post(f"/fine_tuning/jobs/{ids[1]}/cancel")

    def listed() -> dict[str, Any]:
        body = emulator_http.get("/fine_tuning/jobs", params={"metadata[ws]": "a"}).json()
        return {j["id"]: j for j in body["data"]}

    def retrieved() -> dict[str, Any]:
        return {i: emulator_http.get(f"/fine_tuning/jobs/{i}").json() for i in ids}

    statuses = []
    for _ in range(3):
        assert listed() == retrieved()
        assert listed() == retrieved()  # the second listing answers from what was kept
        statuses.append(sorted(j["status"] for j in listed().values()))
        fake_clock.advance(10_000)
    assert statuses[0] == ["cancelled", "validating_files", "validating_files"]
    assert statuses[-1] == ["cancelled", "succeeded", "succeeded"]

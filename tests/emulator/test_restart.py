"""The emulator never rewinds: a job's status, finish time and model survive a restart on the
same database at another speed, and a clock that goes back."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator import make_app

from ..conftest import EMULATOR_BASE_URL, EMULATOR_KEY, EmulatorTransport, FakeClock
from .test_jobs import create, upload


def client_for(app: Any) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(app=app), base_url=EMULATOR_BASE_URL,
                        headers={"Authorization": f"Bearer {EMULATOR_KEY}"})


def status_of(http: httpx.Client, job_id: str) -> dict[str, Any]:
    answer = http.get(f"/fine_tuning/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_succeeded_jobs_stay_succeeded_at_another_speed_and_an_earlier_clock(
    tmp_path: Path, chat_dataset: Path
) -> None:
    db = str(tmp_path / "emulator.db")
    clock = FakeClock()
    fast = make_app(db, api_key=EMULATOR_KEY, clock=clock, speed=200.0)
    with client_for(fast) as http:
        file_id = upload(http, chat_dataset)
        jobs = [create(http, file_id, suffix=f"bot{i}")["id"] for i in range(2)]
        clock.advance(5)  # 1000 simulated seconds: both done
        done = [status_of(http, j) for j in jobs]
    fast.close()
    assert [j["status"] for j in done] == ["succeeded", "succeeded"]
    models = {j["fine_tuned_model"] for j in done}

    earlier = FakeClock(clock.now() - 3600)  # and the clock went back an hour
    slow = make_app(db, api_key=EMULATOR_KEY, clock=earlier, speed=1.0)
    with client_for(slow) as http:
        again = [status_of(http, j) for j in jobs]
        listed = {m["id"] for m in http.get("/models").json()["data"]}
        refused = http.post(f"/fine_tuning/jobs/{jobs[0]}/cancel")
        answer = http.post("/chat/completions", json={
            "model": done[0]["fine_tuned_model"], "messages": [{"role": "user", "content": "hi"}]})
    slow.close()
    assert again == done  # status, finished_at, model, result files: all as they were
    assert models <= listed
    assert refused.status_code == 400
    assert answer.status_code == 200


def test_progress_seen_never_moves_back(tmp_path: Path, chat_dataset: Path) -> None:
    db = str(tmp_path / "emulator.db")
    clock = FakeClock()
    first = make_app(db, api_key=EMULATOR_KEY, clock=clock, speed=1.0)
    with client_for(first) as http:
        job_id = create(http, upload(http, chat_dataset))["id"]
        clock.advance(30)  # past validation and the queue: running
        assert status_of(http, job_id)["status"] == "running"
    first.close()

    slower = make_app(db, api_key=EMULATOR_KEY, clock=FakeClock(clock.now() - 25), speed=0.5)
    with client_for(slower) as http:
        assert status_of(http, job_id)["status"] == "running"
    slower.close()


@contextlib.contextmanager
def emulator_run(db: str, clock: FakeClock, speed: float) -> Iterator[httpx.Client]:
    """One emulator run on `db` at `speed`, closed at the end like a stopped server."""
    app = make_app(db, api_key=EMULATOR_KEY, clock=clock, speed=speed)
    try:
        with client_for(app) as http:
            yield http
    finally:
        app.close()


def timestamps(http: httpx.Client, job_id: str, what: str) -> list[int]:
    answer = http.get(f"/fine_tuning/jobs/{job_id}/{what}", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [int(item["created_at"]) for item in answer.json()["data"]]


def test_events_and_checkpoints_keep_their_times_at_a_lower_speed(
    tmp_path: Path, chat_dataset: Path
) -> None:
    """Times come from the speed a job ran at: a later run at speed 1 must not date the events
    of a job that finished under speed 200 after its finish (or in the future)."""
    db, clock = str(tmp_path / "emulator.db"), FakeClock()
    with emulator_run(db, clock, speed=200.0) as http:
        job_id = create(http, upload(http, chat_dataset))["id"]
        clock.advance(10)
        finished = status_of(http, job_id)
        events_before = timestamps(http, job_id, "events")
        checkpoints_before = timestamps(http, job_id, "checkpoints")
    assert finished["status"] == "succeeded" and checkpoints_before
    clock.advance(60)
    with emulator_run(db, clock, speed=1.0) as http:
        events_after = timestamps(http, job_id, "events")
        checkpoints_after = timestamps(http, job_id, "checkpoints")
    for stamps in (events_after, checkpoints_after):
        assert stamps == sorted(stamps, reverse=True)  # newest first, in order
        assert max(stamps) <= finished["finished_at"]
        assert min(stamps) >= finished["created_at"]
    assert len(events_after) == len(events_before)
    assert len(checkpoints_after) == len(checkpoints_before)


def test_a_running_job_dates_nothing_in_the_future_at_a_lower_speed(
    tmp_path: Path, chat_dataset: Path
) -> None:
    db, clock = str(tmp_path / "emulator.db"), FakeClock()
    with emulator_run(db, clock, speed=50.0) as http:
        job_id = create(http, upload(http, chat_dataset))["id"]
        clock.advance(1.0)  # 50 simulated seconds: running
        assert status_of(http, job_id)["status"] == "running"
    with emulator_run(db, clock, speed=1.0) as http:
        stamps = timestamps(http, job_id, "events")
    assert len(stamps) >= 4 and max(stamps) <= clock.now()


def test_a_cancelled_job_stays_cancelled_at_a_higher_speed(
    tmp_path: Path, chat_dataset: Path
) -> None:
    db = str(tmp_path / "emulator.db")
    clock = FakeClock()
    first = make_app(db, api_key=EMULATOR_KEY, clock=clock, speed=1.0)
    with client_for(first) as http:
        job_id = create(http, upload(http, chat_dataset))["id"]
        clock.advance(5)
        assert http.post(f"/fine_tuning/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    first.close()
    faster = make_app(db, api_key=EMULATOR_KEY, clock=clock, speed=10_000.0)
    with client_for(faster) as http:
        after = status_of(http, job_id)
    faster.close()
    assert after["status"] == "cancelled" and after["fine_tuned_model"] is None


def test_a_database_from_an_earlier_emulator_gains_the_new_columns(
    tmp_path: Path, chat_dataset: Path, make_emulator: Callable[..., Any]
) -> None:
    db = tmp_path / "old.db"
    app, _ = make_emulator(db_path=str(db))
    app.close()
    with sqlite3.connect(db) as conn:
        for column in ("reached_status", "reached_sim", "finished_at"):
            conn.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
    reopened = make_app(str(db), api_key=EMULATOR_KEY, clock=FakeClock(), speed=1.0)
    with client_for(reopened) as http:
        job = create(http, upload(http, chat_dataset))
        assert status_of(http, job["id"])["status"] == "validating_files"
    reopened.close()

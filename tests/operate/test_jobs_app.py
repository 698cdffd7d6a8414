"""jobs (app level) against the in-process emulator on a fake clock: every event of a long job
across pages, streaming events until the end, cancel targets."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.app import jobs
from reconciler.app.operate import NotFound, Pacing, Refused
from reconciler.snapshot import JobStatus


@pytest.fixture
def long_job(local: Any, monkeypatch: Any) -> Any:
    local.project.model("bot", examples=150)
    monkeypatch.setattr(jobs, "EVENTS_PAGE", 4)  # small pages: the history spans several
    local.apply_no_wait()
    return local


def test_events_pages_back_through_the_whole_history(long_job: Any) -> None:
    long_job.clock.advance(100_000)
    ws = long_job.workspace()
    long_job.paths.clear()
    job, found = jobs.events(ws, "bot")
    assert job.status is JobStatus.SUCCEEDED
    pages = [p for p in long_job.paths if p.endswith("/events")]
    assert len(found) > 3 * jobs.EVENTS_PAGE and len(pages) > 3
    assert len({e.id for e in found}) == len(found)
    assert found[0].message.startswith("Created fine-tuning job")
    assert found[-1].message == "The job has successfully completed"
    stamps = [e.created_at for e in found]
    assert stamps == sorted(stamps)


def test_stream_events_emits_each_event_once_until_the_job_ends(long_job: Any) -> None:
    ws = long_job.workspace()
    job, _ = jobs.events(ws, "bot")
    seen: list[str] = []
    pacing = Pacing(poll_interval=60.0, clock=long_job.clock, sleep=long_job.clock.advance)
    ended = jobs.stream_events(ws, job.id, lambda e: seen.append(e.message), pacing)
    assert ended.status is JobStatus.SUCCEEDED
    assert seen[0].startswith("Created fine-tuning job")
    assert seen[-1] == "The job has successfully completed"
    _, history = jobs.events(ws, job.id)
    assert seen == [e.message for e in history]


def test_cancel_targets(local: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()
    target = jobs.cancel_target(ws, "bot")
    assert [j.status.is_terminal for j in target.jobs] == [False]
    assert target.owner.name == "bot" and target.restarts_with_manifest
    (cancelled,) = jobs.cancel(ws, target)
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(NotFound, match="bot has no job in progress"):
        jobs.cancel_target(ws, "bot")
    with pytest.raises(Refused, match="has already cancelled"):
        jobs.cancel_target(ws, cancelled.id)


def test_an_adopted_job_belongs_to_its_manifest(local: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()
    (managed,) = ws.api.list_jobs()
    hand_made = ws.api.create_job({"model": managed.model, "training_file": managed.training_file})
    local.clock.advance(10_000)
    text = (local.project.root / "models" / "bot.yaml").read_text()
    adopted = text.replace("name: bot", "name: imported") + f"  adopt: {hand_made.id}\n"
    (local.project.root / "models" / "imported.yaml").write_text(adopted)
    ws = local.workspace()
    rows = {r.job.id: r.owner for r in jobs.list_jobs(ws)}
    assert set(rows) == {managed.id, hand_made.id}  # the workspace's jobs, the adopted one too
    assert rows[hand_made.id].name == "imported" and rows[hand_made.id].manifest
    assert jobs.get(ws, "imported").job.id == hand_made.id
    everything = {r.job.id: r.owner for r in jobs.list_jobs(ws, all_jobs=True)}
    assert everything[hand_made.id] == rows[hand_made.id]

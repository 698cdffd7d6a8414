"""follow (app level) against the in-process emulator on a fake clock: re-attaching to a job in
mid-run, its outcome, raw job ids, unknown names, Ctrl-C."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.app import operate
from reconciler.app.operate import NotFound, Pacing
from reconciler.planner.identity import META_NAME
from reconciler.snapshot import JobStatus


def _pacing(local: Any, on_sleep: Any = None) -> Pacing:
    def sleep(seconds: float) -> None:
        local.clock.advance(seconds)
        if on_sleep is not None:
            on_sleep()

    return Pacing(poll_interval=5.0, clock=local.clock, sleep=sleep)


def test_follow_reattaches_mid_run_and_ends_succeeded(local: Any, recorder_cls: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()
    local.clock.advance(30)  # part way: validated, training started, not finished
    (job,) = ws.api.list_jobs()
    assert job.status is JobStatus.RUNNING
    recorder = recorder_cls()
    result = operate.follow(ws, "bot", recorder, _pacing(local))
    assert result.was_running and result.succeeded and not result.interrupted
    assert result.job.id == job.id and result.job.fine_tuned_model
    assert result.job.fine_tuned_model in {m.id for m in ws.api.list_models()}
    statuses = [p.job.status for p in recorder.progress]
    assert statuses[0] is JobStatus.RUNNING and statuses[-1] is JobStatus.SUCCEEDED
    seen = [e.message for p in recorder.progress for e in p.new_events]
    assert any("successfully completed" in m for m in seen)
    assert len(seen) == len(set(seen))  # each event reported once, as apply --wait does
    assert recorder.messages == [f"Following bot: {job.id} (running)."]


def test_follow_ends_with_a_cancel_made_elsewhere(local: Any, recorder_cls: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()
    (job,) = ws.api.list_jobs()
    # Another terminal cancels the job while this one follows it.
    result = operate.follow(ws, "bot", recorder_cls(),
                            _pacing(local, on_sleep=lambda: ws.api.cancel_job(job.id)))
    assert result.job.status is JobStatus.CANCELLED and not result.succeeded


def test_follow_a_finished_job_reports_it_once(local: Any, recorder_cls: Any) -> None:
    local.apply_no_wait()
    local.clock.advance(10_000)
    recorder = recorder_cls()
    result = operate.follow(local.workspace(), "bot", recorder, _pacing(local))
    assert result.succeeded and not result.was_running
    assert [p.job.status for p in recorder.progress] == [JobStatus.SUCCEEDED]
    assert recorder.messages == []


def test_follow_by_raw_id_of_a_job_ftctl_did_not_make(local: Any, recorder_cls: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()
    (managed,) = ws.api.list_jobs()
    hand_made = ws.api.create_job({"model": managed.model,
                                   "training_file": managed.training_file})
    assert hand_made.meta(META_NAME) is None
    result = operate.follow(ws, hand_made.id, recorder_cls(), _pacing(local))
    assert result.name == hand_made.id and result.succeeded
    by_id = operate.follow(ws, managed.id, recorder_cls(), _pacing(local))
    assert by_id.name == "bot"  # a managed job is labelled with its name


def test_follow_unknown_names_and_ids(local: Any, recorder_cls: Any) -> None:
    ws = local.workspace()
    with pytest.raises(NotFound, match="no model named 'nope' in workspace 'ops'"):
        operate.follow(ws, "nope", recorder_cls(), _pacing(local))
    with pytest.raises(NotFound, match="no fine-tuning job ftjob-missing in this organization"):
        operate.follow(ws, "ftjob-missing", recorder_cls(), _pacing(local))
    with pytest.raises(NotFound, match="bot has no fine-tuning job yet"):
        operate.follow(ws, "bot", recorder_cls(), _pacing(local))


def test_follow_interrupted_leaves_the_job_running(local: Any, recorder_cls: Any) -> None:
    local.apply_no_wait()
    ws = local.workspace()

    def ctrl_c() -> None:
        raise KeyboardInterrupt

    result = operate.follow(ws, "bot", recorder_cls(), _pacing(local, on_sleep=ctrl_c))
    assert result.interrupted and not result.succeeded
    assert not ws.api.get_job(result.job.id).status.is_terminal

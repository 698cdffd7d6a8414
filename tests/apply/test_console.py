"""Reporters and the apply summary: what a CI log and a terminal user read."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.app.apply import ApplyReport
from reconciler.console import (
    PlainReporter,
    TerminalReporter,
    duration,
    format_summary,
    is_interactive,
)
from reconciler.events import CheckResult, JobProgress, StepResult, StepStatus
from reconciler.plan import Action, DeleteModel, Plan, Reason, Step, UploadFile
from reconciler.snapshot import JobEvent, JobStatus, RemoteJob

from .conftest import FakeClock

UPLOAD = Step(key="upload/data/a.jsonl", action=Action.UPLOAD, name="a", reason=Reason.NEW,
              payload=UploadFile(repo_path="data/a.jsonl", sha256="0" * 64, bytes=4 << 20,
                                 filename="ftctl-x.jsonl"))


def job(status: JobStatus, **kw: object) -> RemoteJob:
    return RemoteJob(id="ftjob-1", status=status, model="m", training_file="f",
                     metadata=(("ftctl-name", "a"),), **kw)  # type: ignore[arg-type]


def progress(status: JobStatus, step: int | None = None, events: tuple[JobEvent, ...] = (),
             **kw: object) -> JobProgress:
    return JobProgress(name="a", job=job(status, **kw), step=step, total_steps=100,
                       train_loss=0.5 if step else None, eta_seconds=125 if step else None,
                       new_events=events)


def test_plain_lines_print_status_changes_at_once_and_progress_every_interval() -> None:
    out, clock = io.StringIO(), FakeClock(0.0)
    r = PlainReporter(out, interval=30.0, clock=clock)
    r.job_progress(progress(JobStatus.QUEUED))
    r.job_progress(progress(JobStatus.RUNNING, 10))
    clock.advance(5)
    r.job_progress(progress(JobStatus.RUNNING, 20))  # too soon: not printed
    clock.advance(30)
    r.job_progress(progress(JobStatus.RUNNING, 60))
    lines = out.getvalue().splitlines()
    assert lines == [
        "a: ftjob-1 queued",
        "a: ftjob-1 running, step 10/100, loss 0.5000, ETA 2m05s",
        "a: ftjob-1 running, step 60/100, loss 0.5000, ETA 2m05s",
    ]


def test_plain_prints_each_event_message_but_not_metrics() -> None:
    out = io.StringIO()
    events = (JobEvent(id="1", created_at=1, level="info", message="Created job"),
              JobEvent(id="2", created_at=2, level="info", message="Step 1", type="metrics"),
              JobEvent(id="3", created_at=3, level="warn", message="Slow queue"))
    PlainReporter(out).job_progress(progress(JobStatus.QUEUED, events=events))
    assert out.getvalue().splitlines()[:2] == ["a: info: Created job", "a: warn: Slow queue"]


def test_plain_upload_progress_in_quarters() -> None:
    out = io.StringIO()
    r = PlainReporter(out)
    total = 4 << 20
    for sent in range(0, total + 1, 1 << 18):
        r.upload_progress(UPLOAD, sent, total)
    assert [line.rsplit("(", 1)[1] for line in out.getvalue().splitlines()] == [
        "25%)", "50%)", "75%)", "100%)"]


def test_step_lines() -> None:
    out = io.StringIO()
    r = PlainReporter(out)
    r.step_started(UPLOAD)
    r.step_finished(UPLOAD, StepResult(key=UPLOAD.key, status=StepStatus.DONE,
                                       remote_id="file-1", message="already present"))
    r.step_finished(UPLOAD, StepResult(key=UPLOAD.key, status=StepStatus.FAILED,
                                       message="boom"))
    # The failure's reason is left to the closing summary, which prints each problem once.
    assert out.getvalue().splitlines() == [
        "start: upload data/a.jsonl (4.0 MiB)",
        "done: upload data/a.jsonl (4.0 MiB) -> file-1 (already present)",
        "FAILED: upload data/a.jsonl (4.0 MiB)",
    ]


def test_a_delete_names_the_model_once() -> None:
    step = Step(key="a/delete/ft:m", action=Action.DELETE, name="a", reason=Reason.ORPHANED,
                payload=DeleteModel(model_id="ft:m"))
    out = io.StringIO()
    PlainReporter(out).step_finished(step, StepResult(key=step.key, status=StepStatus.DONE,
                                                      remote_id="ft:m"))
    assert out.getvalue() == "done: delete model ft:m\n"


def test_sizes_use_one_unit_system_in_plan_and_apply() -> None:
    from reconciler.render import render

    plan = Plan(workspace="w", snapshot_fingerprint="f", steps=(UPLOAD,))
    out = io.StringIO()
    PlainReporter(out).step_started(UPLOAD)
    assert "(4.0 MiB)" in out.getvalue() and "4.0 MiB" in render(plan, "text")


def test_terminal_reporter_draws_rows_for_jobs_and_uploads() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system=None)
    with TerminalReporter(console) as r:
        r.upload_progress(UPLOAD, 1 << 20, 4 << 20)
        r.job_progress(progress(JobStatus.RUNNING, 40))
        r.message("hello")
    text = buf.getvalue()
    assert "running" in text and "step 40/100" in text and "ETA 2m05s" in text
    assert "1.0 MiB/4.0 MiB" in text and "hello" in text


def test_interactive_only_on_a_terminal_outside_ci() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert is_interactive(Tty(), {})
    assert not is_interactive(Tty(), {"CI": "true"})
    assert not is_interactive(io.StringIO(), {})


def test_duration() -> None:
    assert [duration(5), duration(125), duration(3725), duration(None)] == [
        "5s", "2m05s", "1h02m", ""]


def _plan() -> Plan:
    return Plan(workspace="w", snapshot_fingerprint="f", steps=(UPLOAD,))


def test_summary_lists_failures_checks_and_the_resume_hint() -> None:
    report = ApplyReport(
        plan=_plan(),
        results=(StepResult(key="a/create-job", status=StepStatus.FAILED, message="check 1"),
                 StepResult(key="a/delete/x", status=StepStatus.SKIPPED, message="not safe")),
        checks=(CheckResult(name="a", model="ft:1", index=1, prompt="hi", passed=False,
                            reason="expected 'x'"),),
        jobs=(job(JobStatus.RUNNING),),
    )
    text = format_summary(report)
    assert text.startswith("Apply finished with errors: 0 done, 1 failed, 1 skipped.")
    assert "  a/create-job: check 1" in text and "  a/delete/x: not safe" in text
    assert "Checks: 0 passed, 1 failed." in text and "Older versions were kept" in text
    assert "Still training:\n  a: ftjob-1 running" in text and "ftctl plan" in text


def test_summary_when_interrupted_and_when_nothing_to_do() -> None:
    text = format_summary(ApplyReport(plan=_plan(), interrupted=True))
    assert text.startswith("Apply interrupted") and "Training continues" in text
    empty = Plan(workspace="w", snapshot_fingerprint="f")
    assert format_summary(ApplyReport(plan=empty)).startswith("No changes.")


def test_summary_of_a_refused_plan_and_of_failed_checks_without_changes() -> None:
    from reconciler.diagnostics import error

    refused = Plan(workspace="w", snapshot_fingerprint="f", steps=(UPLOAD,),
                   notes=(error("a: plan would delete x, but prevent_destroy is set"),))
    text = format_summary(ApplyReport(plan=refused, diagnostics=refused.notes))
    assert text.startswith("Apply refused: the plan has errors")
    empty = Plan(workspace="w", snapshot_fingerprint="f")
    failing = CheckResult(name="a", model="ft:1", index=2, prompt="p", passed=False,
                          reason="expected 'x'")
    text = format_summary(ApplyReport(plan=empty, checks=(failing,)))
    assert text.startswith("No changes to carry out, but")
    assert "a check 2 ('p') on ft:1: expected 'x'" in text

"""Reporters for people: a live rich display on a terminal, plain periodic lines in CI logs.

Both implement events.Reporter and are thread-safe (the executor reports from worker threads).
Also formats apply's closing summary. The CLI decides which reporter to use and prints.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from reconciler.app.apply import ApplyReport
from reconciler.events import JobProgress, StepResult, StepStatus
from reconciler.plan import (
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    DeployModel,
    RemoveDeployment,
    Step,
    UploadFile,
)
from reconciler.planner.identity import META_NAME
from reconciler.render.evaluation import render_text as evaluation_text
from reconciler.render.wording import format_bytes as size
from reconciler.snapshot import RemoteJob

SMALL_UPLOAD = 1 << 20
_MARK = {StepStatus.DONE: "done", StepStatus.FAILED: "FAILED", StepStatus.SKIPPED: "skipped"}


def duration(seconds: float | None) -> str:
    """`1h02m`, `3m05s`, `42s`; empty when unknown."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def describe(step: Step) -> str:
    """One line saying what a step does, for progress output."""
    p = step.payload
    if isinstance(p, UploadFile):
        return f"upload {p.repo_path} ({size(p.bytes)})"
    if isinstance(p, CreateJob):
        return f"{step.action.value} {step.name} (version {p.version})"
    if isinstance(p, CancelJob):
        return f"cancel job {p.job_id}"
    if isinstance(p, DeleteModel):
        return f"delete model {p.model_id}"
    if isinstance(p, DeployModel):
        model = p.model_id if isinstance(p.model_id, str) else f"{p.name}'s new version"
        return f"deploy {p.deployment} -> {model}"
    if isinstance(p, RemoveDeployment):
        return f"undeploy {p.deployment}"
    if isinstance(p, DeleteJob):
        return f"delete job {p.job_id}"
    if isinstance(p, DeleteFile):
        return f"delete file {p.file_id} ({p.filename})"
    return step.key


def step_line(step: Step, result: StepResult) -> str:
    """`done: upload x -> file-1`. A failure's reason is left to the closing summary, which
    lists every problem once; here it would only be printed twice."""
    line = f"{_MARK[result.status]}: {describe(step)}"
    if result.status is not StepStatus.DONE:
        return line
    if result.remote_id and isinstance(step.payload, UploadFile | CreateJob):
        line += f" -> {result.remote_id}"  # what the step made; a delete made nothing
    return f"{line} ({result.message})" if result.message else line


def progress_line(p: JobProgress) -> str:
    parts = [f"{p.name}: {p.job.id} {p.job.status.value}"]
    if p.step is not None:
        parts.append(f"step {p.step}/{p.total_steps or '?'}")
    if p.train_loss is not None:
        parts.append(f"loss {p.train_loss:.4f}")
    if p.eta_seconds is not None:
        parts.append(f"ETA {duration(p.eta_seconds)}")
    if p.job.fine_tuned_model:
        parts.append(p.job.fine_tuned_model)
    return ", ".join(parts)


class PlainReporter:
    """Line-oriented output for CI and pipes: each change once, job progress every `interval`."""

    def __init__(
        self,
        out: TextIO,
        *,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out, self._interval, self._clock = out, interval, clock
        self._lock = threading.Lock()
        self._last: dict[str, tuple[str, float]] = {}  # job id -> (status, when printed)
        self._upload_quarter: dict[str, int] = {}

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _print(self, text: str) -> None:
        with self._lock:
            self._out.write(text + "\n")
            self._out.flush()

    def step_started(self, step: Step) -> None:
        self._print(f"start: {describe(step)}")

    def step_finished(self, step: Step, result: StepResult) -> None:
        self._print(step_line(step, result))

    def job_progress(self, progress: JobProgress) -> None:
        for event in progress.new_events:
            if event.type != "metrics":
                self._print(f"{progress.name}: {event.level}: {event.message}")
        job, now = progress.job, self._clock()
        with self._lock:
            status, when = self._last.get(job.id, ("", float("-inf")))
            due = job.status.value != status or now - when >= self._interval
            if due:
                self._last[job.id] = (job.status.value, now)
        if due:
            self._print(progress_line(progress))

    def upload_progress(self, step: Step, sent: int, total: int) -> None:
        if total < SMALL_UPLOAD:
            return  # done in one request: the step's own lines say enough
        quarter = 4 * sent // total
        with self._lock:
            if quarter <= self._upload_quarter.get(step.key, 0):
                return
            self._upload_quarter[step.key] = quarter
        self._print(f"{describe(step)}: {size(sent)} sent ({25 * quarter}%)")

    def eval_progress(self, name: str, done: int, total: int) -> None:
        quarter = 4 * done // max(1, total)
        key = f"eval:{name}"
        with self._lock:
            if quarter <= self._upload_quarter.get(key, 0):
                return
            self._upload_quarter[key] = 0 if quarter >= 4 else quarter  # a re-run starts over
        self._print(f"evaluate {name}: {done}/{total} answers scored ({25 * quarter}%)")

    def message(self, text: str) -> None:
        self._print(text)


class TerminalReporter:
    """A live rich display: one row per upload and per job (status, step/total, loss, ETA).

    Use as a context manager around apply; step results and messages print above the rows.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[cyan]{task.fields[status]}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TextColumn("[dim]{task.fields[eta]}"),
            console=self.console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()
        self._started = False

    def __enter__(self) -> TerminalReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._started:
                self._progress.stop()
                self._started = False

    def _task(self, key: str, description: str, total: float | None) -> TaskID:
        with self._lock:
            if not self._started:
                # Started on the first row, so a confirmation prompt before it stays readable.
                self._progress.start()
                self._started = True
            if key not in self._tasks:
                self._tasks[key] = self._progress.add_task(
                    description, total=total, status="", detail="", eta=""
                )
            return self._tasks[key]

    def step_started(self, step: Step) -> None:
        self._progress.console.print(f"[bold]start[/]: {describe(step)}", highlight=False)

    def step_finished(self, step: Step, result: StepResult) -> None:
        task = self._tasks.get(step.key)
        if task is not None:  # an upload row: it ended
            self._progress.update(task, status=_MARK[result.status])
        colour = {"done": "green", "FAILED": "red", "skipped": "yellow"}[_MARK[result.status]]
        self._progress.console.print(f"[{colour}]{step_line(step, result)}[/]", highlight=False,
                                     markup=True)

    def job_progress(self, progress: JobProgress) -> None:
        for event in progress.new_events:
            if event.type != "metrics":
                self._progress.console.print(f"{progress.name}: {event.message}",
                                             highlight=False, markup=False)
        task = self._task(progress.job.id, f"{progress.name} {progress.job.id}",
                          progress.total_steps)
        detail = f"step {progress.step}/{progress.total_steps}" if progress.step else ""
        if progress.train_loss is not None:
            detail += f"  loss {progress.train_loss:.4f}"
        done = progress.job.status.is_terminal
        self._progress.update(
            task,
            total=progress.total_steps,
            completed=progress.total_steps if done and progress.total_steps else progress.step or 0,
            status=progress.job.status.value,
            detail=detail.strip(),
            eta=f"ETA {duration(progress.eta_seconds)}" if progress.eta_seconds else "",
        )

    def upload_progress(self, step: Step, sent: int, total: int) -> None:
        task = self._task(step.key, describe(step), total)
        self._progress.update(task, completed=sent, total=total, status="uploading",
                              detail=f"{size(sent)}/{size(total)}")

    def eval_progress(self, name: str, done: int, total: int) -> None:
        task = self._task(f"eval:{name}", f"evaluate {name}", total)
        self._progress.update(task, completed=done, total=total, status="scoring",
                              detail=f"{done}/{total} answers")

    def message(self, text: str) -> None:
        self._progress.console.print(text, highlight=False, markup=False)


def is_interactive(stream: TextIO, env: dict[str, str] | None = None) -> bool:
    """A live display only on a real terminal and outside CI (CI logs want plain lines)."""
    env = dict(os.environ) if env is None else env
    if env.get("CI") or env.get("GITHUB_ACTIONS") or env.get("TERM") == "dumb":
        return False
    return stream.isatty()


def make_reporter(stream: TextIO | None = None) -> PlainReporter | TerminalReporter:
    stream = stream or sys.stdout
    if is_interactive(stream):
        return TerminalReporter(Console(file=stream))
    return PlainReporter(stream)


RESUME_HINT = (
    "Training continues on the provider. `ftctl plan` shows the jobs in progress; run "
    "`ftctl apply` again to wait for them, run their checks and retire old versions."
)


def format_summary(report: ApplyReport) -> str:
    """apply's closing summary: what was done, what failed and why, what is still running."""
    lines = [_headline(report)]
    for status, title in ((StepStatus.FAILED, "Failed"), (StepStatus.SKIPPED, "Not run")):
        rows = [r for r in report.results if r.status is status]
        if rows:
            lines.append(f"{title}:")
            lines.extend(f"  {r.key}: {r.message}" for r in rows)
    checks = [c for c in report.checks if c.evaluation is None and c.index]
    if checks:
        failed = [c for c in checks if not c.passed]
        lines.append(f"Checks: {len(checks) - len(failed)} passed, {len(failed)} failed.")
        lines.extend(
            f"  {c.name} check {c.index} ({c.prompt!r}) on {c.model}: {c.reason}" for c in failed
        )
    for result in report.checks:
        if result.evaluation is not None:
            lines.append(evaluation_text(result.evaluation).rstrip("\n"))
        elif not result.index and not result.passed:
            lines += [f"Evaluation of {result.name} on {result.model}",
                      f"REFUSED: {result.reason}."]
    if any(not c.passed for c in report.checks):
        lines.append("  Older versions were kept: they keep serving until a new version "
                     "passes its checks and evaluation.")
    if report.in_flight:
        lines.append("Still training:")
        lines.extend(f"  {_job_name(j)}: {j.id} {j.status.value}" for j in report.in_flight)
    if report.interrupted or report.in_flight:
        lines.append(RESUME_HINT)
    return "\n".join(lines) + "\n"


def _headline(report: ApplyReport) -> str:
    counts = ", ".join(
        f"{report.count(s)} {s.value}" for s in (StepStatus.DONE, StepStatus.FAILED,
                                                  StepStatus.SKIPPED)
    )
    if report.interrupted:
        return f"Apply interrupted: stopped following jobs ({counts})."
    if report.plan is not None and report.plan.has_errors:
        return "Apply refused: the plan has errors (above). Nothing was changed."
    if report.plan is not None and not report.plan.changes and not report.results:
        if report.ok and report.plan.converged:
            return "No changes. The remote matches the manifests."
        return "No changes to carry out, but the current versions need attention:"
    if report.ok:
        return f"Apply complete: {counts}."
    return f"Apply finished with errors: {counts}."


def _job_name(job: RemoteJob) -> str:
    return job.meta(META_NAME) or job.id

"""What apply reports while it works: the Reporter protocol and the values it carries.

L0 core types, no I/O. The executor and the waiter emit events through a Reporter; the
terminal, CI logs and tests each subscribe their own implementation (console.py, test fakes).
Reporters may be called from worker threads, so implementations must be thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from reconciler.evaluation.verdict import Outcome
from reconciler.plan import Step
from reconciler.snapshot import JobEvent, RemoteJob


class StepStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """What became of one Step.

    remote_id: the file, job or model the step produced or acted on. message: for failed and
    skipped steps, one sentence of why; for done steps, an optional note (e.g. "already present").
    """

    key: str
    status: StepStatus
    remote_id: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobProgress:
    """A snapshot of one training job as the waiter last saw it."""

    name: str
    job: RemoteJob
    step: int | None = None
    total_steps: int | None = None
    train_loss: float | None = None
    eta_seconds: float | None = None
    event: JobEvent | None = None  # the newest event not reported before, if any
    new_events: tuple[JobEvent, ...] = ()  # every event not reported before, oldest first


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One part of the gate run against a new model: a manifest check, or the evaluation.

    The evaluation's result has index 0 and carries its Outcome (the metrics of the candidate
    and the serving version); `passed` is the promotion rule's verdict.
    """

    name: str
    model: str
    index: int  # 1-based position in the manifest's checks; 0 for the evaluation
    prompt: str
    passed: bool
    answer: str = ""
    reason: str = ""  # why it failed, in one sentence
    evaluation: Outcome | None = None
    unanswered: bool = False  # the model could not be queried: no verdict either way


class Reporter(Protocol):
    def step_started(self, step: Step) -> None: ...

    def step_finished(self, step: Step, result: StepResult) -> None: ...

    def job_progress(self, progress: JobProgress) -> None: ...

    def upload_progress(self, step: Step, sent: int, total: int) -> None: ...

    def message(self, text: str) -> None: ...


@runtime_checkable
class EvalProgress(Protocol):
    """What a Reporter may also show: an evaluation's progress (a bar on a terminal)."""

    def eval_progress(self, name: str, done: int, total: int) -> None: ...


class NullReporter:
    """Reports nothing (library use, and tests that do not look at progress)."""

    def step_started(self, step: Step) -> None:
        pass

    def step_finished(self, step: Step, result: StepResult) -> None:
        pass

    def job_progress(self, progress: JobProgress) -> None:
        pass

    def upload_progress(self, step: Step, sent: int, total: int) -> None:
        pass

    def message(self, text: str) -> None:
        pass

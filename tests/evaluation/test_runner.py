"""The runner against the emulator: a re-run costs nothing, concurrency stays bounded, failed
requests are retried by the client's retry layer, progress is reported, and an evaluation that
cannot be completed refuses the candidate instead of crashing."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any

from reconciler.app.evaluate import run_eval
from reconciler.events import StepStatus

from .conftest import NAME, QUESTIONS, EvalProject, Remote


class Progress:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []
        self.lock = threading.Lock()

    def eval_progress(self, name: str, done: int, total: int) -> None:
        with self.lock:
            self.seen.append((name, done, total))

    # The rest of the Reporter protocol: nothing to keep.
    def step_started(self, *args: object) -> None: ...
    def step_finished(self, *args: object) -> None: ...
    def job_progress(self, *args: object) -> None: ...
    def upload_progress(self, *args: object) -> None: ...
    def message(self, *args: object) -> None: ...


def two_versions(project: EvalProject, remote: Remote) -> None:
    project.training(right=6)
    assert remote.apply(project).ok
    project.training(right=4)
    assert not remote.apply(project).ok  # refused: both versions stay


def test_a_rerun_asks_nothing_already_scored(eval_project: EvalProject, remote: Remote) -> None:
    two_versions(eval_project, remote)
    before = remote.counting.inference
    first = run_eval(remote.workspace(eval_project), NAME)
    assert remote.counting.inference == before  # apply's gate scored both already
    eval_project.manifest(extra_graders=["{name: close, type: similarity}"])
    second = run_eval(remote.workspace(eval_project), NAME)
    # A new grader needs answers again, once per example and version; then none.
    assert remote.counting.inference == before + 2 * QUESTIONS
    third = run_eval(remote.workspace(eval_project), NAME)
    assert remote.counting.inference == before + 2 * QUESTIONS
    assert third == second and first.metrics == second.metrics[:2]
    cache = json.loads((eval_project.root / ".ftctl" / "cache" / "eval-scores.json").read_text())
    assert len(cache["scores"]) == 2 * QUESTIONS * 3


def test_concurrency_is_bounded_and_progress_reported(eval_project: EvalProject,
                                                      remote: Remote) -> None:
    eval_project.settings(concurrency=3)
    two_versions(eval_project, remote)
    (eval_project.root / ".ftctl" / "cache" / "eval-scores.json").unlink()
    progress = Progress()
    remote.counting.most_in_flight = 0
    run_eval(remote.workspace(eval_project), NAME, reporter=progress)  # type: ignore[arg-type]
    assert 1 <= remote.counting.most_in_flight <= 3
    assert [done for _, done, _ in progress.seen] == list(range(1, 2 * QUESTIONS + 1))
    assert {(name, total) for name, _, total in progress.seen} == {(NAME, 2 * QUESTIONS)}


class FailFirst:
    """Answers the first attempt of every chat completion with a 500, as a flaky provider
    does; only the client's retry layer can make the evaluation succeed."""

    def __init__(self, app: Any, *, always: bool = False) -> None:
        self.app, self.always, self.seen, self.lock = app, always, set(), threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").endswith("/chat/completions"):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            with self.lock:
                first = body not in self.seen
                self.seen.add(body)
            if first or self.always:
                start_response("500 Internal Server Error",
                               [("Content-Type", "application/json")])
                return [json.dumps({"error": {"message": "The server had an error.",
                                              "type": "server_error", "param": None,
                                              "code": None}}).encode()]
        return self.app(environ, start_response)


def test_failed_requests_are_retried_by_the_client(eval_project: EvalProject,
                                                   remote: Remote) -> None:
    eval_project.training(right=6)
    remote.counting.app = FailFirst(remote.counting.app)
    report = remote.apply(eval_project)
    assert report.ok, report.results
    assert remote.counting.inference == 2 * QUESTIONS  # each asked twice: one failure, one retry


def test_a_model_that_cannot_be_queried_refuses_the_candidate(eval_project: EvalProject,
                                                              remote: Remote) -> None:
    eval_project.training(right=6)
    answering = remote.counting.app
    remote.counting.app = FailFirst(answering, always=True)
    report = remote.apply(eval_project)
    assert not report.ok
    [failed] = [r for r in report.results if r.status is StepStatus.FAILED]
    assert "evaluation refused" in failed.message
    assert "could not be completed" in failed.message
    [outcome] = [c.evaluation for c in report.checks if c.evaluation is not None]
    assert outcome.error and not outcome.passed and outcome.metrics == ()

    # An evaluation cut short records no verdict: once the provider answers again, the next
    # apply verifies the version (no retraining) and it serves.
    remote.counting.app = answering
    again = remote.apply(eval_project)
    assert again.ok, again.results
    assert [(r.key.split("/")[1], r.status) for r in again.results] == [
        ("verify", StepStatus.DONE)]

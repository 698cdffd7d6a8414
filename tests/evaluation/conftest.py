"""Fixtures for the evaluation tests: a project on disk whose model has `spec.evaluation`, the
real emulator in-process on a fake clock, and apply / eval run against it.

The emulator's fine-tuned models answer with the reply of their most similar training example,
so a training file whose replies match the eval set's expected answers for `right` of its
questions makes a version that scores right/len on exact match: better and worse versions are
made by writing the data, nothing is faked.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.app.apply import ApplyOptions, ApplyReport, run_apply
from reconciler.app.operate import Workspace
from reconciler.app.project import load
from reconciler.client.api import RemoteApi
from reconciler.emulator import make_app
from reconciler.spec import Settings
from tests.apply.conftest import FakeClock, Recorder, api_for

QUESTIONS = 10
NAME = "support"
WORKSPACE = "ws-eval"


def expected(i: int) -> str:
    return f"Order {i} ships on day {i + 2}."


@dataclass
class EvalProject:
    root: Path

    def settings(self, *, speed: float = 5000, concurrency: int = 4) -> None:
        (self.root / "ftctl.yaml").write_text("\n".join([
            "apiVersion: ftctl/v1", "kind: Project", f"workspace: {WORKSPACE}",
            "provider:", "  type: local", f"  speed: {speed}", f"concurrency: {concurrency}",
            "prices:", "  - model: gpt-4o-mini", "    training_per_1m: 3.00",
            "    input_per_1m: 0.30", "    output_per_1m: 1.20",
        ]) + "\n")

    def training(self, right: int) -> None:
        """Training data answering the first `right` questions as the eval set expects and
        the others wrongly."""
        rows = []
        for i in range(QUESTIONS):
            answer = expected(i) if i < right else f"Sorry, order {i} is lost."
            rows.append(json.dumps({"messages": [
                {"role": "user", "content": f"When does order {i} ship?"},
                {"role": "assistant", "content": answer}]}))
        path = self.root / "data" / "train.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n")

    def evalset(self, rows: Iterable[str] | None = None) -> None:
        if rows is None:
            rows = [json.dumps({"messages": [
                {"role": "system", "content": "You answer shipping questions."},
                {"role": "user", "content": f"When does order {i} ship?"}],
                "expected": expected(i)}) for i in range(QUESTIONS)]
        path = self.root / "evals" / "support.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n")

    def manifest(self, *, minimum: float = 0.5, max_regression: float = 0.05,
                 extra_graders: Iterable[str] = ()) -> None:
        lines = [
            "apiVersion: ftctl/v1", "kind: FineTunedModel", "metadata:", f"  name: {NAME}",
            "spec:", "  model: gpt-4o-mini-2024-07-18", f"  suffix: {NAME}",
            "  training_file: ../data/train.jsonl", "  method:", "    type: supervised",
            "    hyperparameters:", "      n_epochs: 1", "  seed: 7",
            "  lifecycle:", "    keep_versions: 1",
            "  evaluation:", "    dataset: ../evals/support.jsonl", "    graders:",
            "      - {name: exact, type: exact_match}",
            "      - {name: mentions, type: contains}",
            *[f"      - {g}" for g in extra_graders],
            "    promote:", f"      min: {{exact: {minimum}}}",
            f"      max_regression: {{exact: {max_regression}}}",
        ]
        (self.root / "models").mkdir(exist_ok=True)
        (self.root / "models" / f"{NAME}.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def eval_project(tmp_path: Path) -> EvalProject:
    root = tmp_path / "repo"
    root.mkdir()
    p = EvalProject(root)
    p.settings()
    p.evalset()
    p.manifest()
    return p


class Counting:
    """WSGI middleware over the real emulator: counts inference requests and the most that
    were in flight at once (what the bounded pool must keep to its limit)."""

    def __init__(self, app: Any) -> None:
        self.app, self.lock = app, threading.Lock()
        self.inference = 0
        self.in_flight = 0
        self.most_in_flight = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        asking = environ.get("PATH_INFO", "").endswith("/chat/completions")
        if asking:
            with self.lock:
                self.inference += 1
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return list(self.app(environ, start_response))
        finally:
            if asking:
                with self.lock:
                    self.in_flight -= 1


@dataclass
class Remote:
    """The emulator (through Counting) and a RemoteApi on it."""

    counting: Counting
    api: RemoteApi
    clock: FakeClock
    recorder: Recorder = field(default_factory=Recorder)

    def apply(self, project: EvalProject, **options: Any) -> ApplyReport:
        @contextlib.contextmanager
        def open_remote(settings: Settings) -> Iterator[RemoteApi]:
            yield self.api

        options.setdefault("auto_approve", True)
        return run_apply(str(project.root), None, ApplyOptions(**options),
                         open_remote=open_remote, reporter=self.recorder, clock=self.clock,
                         sleep=self.clock.advance)

    def workspace(self, project: EvalProject) -> Workspace:
        loaded = load(str(project.root), with_datasets=False)
        assert loaded.desired is not None, loaded.diagnostics
        return Workspace(api=self.api, desired=loaded.desired)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    clock = FakeClock()
    app = make_app(str(tmp_path / "emulator.db"), api_key="sk-test", clock=clock, speed=50.0)
    counting = Counting(app)
    return Remote(counting=counting, api=api_for(counting), clock=clock)

"""Fixtures for the operate commands: a real project directory (ftctl.yaml, manifests, chat and
prompt/completion datasets), the CLI run on it (provider local: the emulator on loopback), and
the same project against the in-process emulator on a fake clock for the app-level tests."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from reconciler.app import project as app_project
from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.app.operate import Workspace
from reconciler.cli import main
from reconciler.cli.provider import open_remote
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import make_app
from reconciler.events import JobProgress, NullReporter, StepResult
from reconciler.plan import Step

SECRET = "sk-user-SECRET-operate-0123456789"
CHAT_BASE = "gpt-4o-mini-2024-07-18"


@dataclass
class Project:
    """A project on disk. speed: the local emulator's simulated seconds per real second."""

    root: Path
    workspace: str = "ops"
    speed: float = 5000.0

    def settings(self, **provider: Any) -> None:
        provider.setdefault("type", "local")
        provider.setdefault("speed", self.speed)
        lines = ["apiVersion: ftctl/v1", "kind: Project", f"workspace: {self.workspace}",
                 "provider:", *[f"  {k}: {v}" for k, v in provider.items()]]
        (self.root / "ftctl.yaml").write_text("\n".join(lines) + "\n")

    def chat_data(self, name: str, n: int = 12) -> str:
        rows = [json.dumps({"messages": [
            {"role": "user", "content": f"Where is order {i}?"},
            {"role": "assistant", "content": f"Order {i} has tracking number T{i}."}]})
            for i in range(n)]
        return self._data(name, rows)

    def completion_data(self, name: str, n: int = 12) -> str:
        rows = [json.dumps({"prompt": f"Colour of item {i} ->", "completion": f" blue {i}"})
                for i in range(n)]
        return self._data(name, rows)

    def _data(self, name: str, rows: list[str]) -> str:
        path = self.root / "data" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n")
        return f"../data/{name}.jsonl"

    def model(self, name: str, *, base: str = CHAT_BASE, n_epochs: int = 1,
              examples: int = 12) -> None:
        data = (self.completion_data(name, examples) if base == "babbage-002"
                else self.chat_data(name, examples))
        text = (f"apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {{name: {name}}}\n"
                f"spec:\n  model: {base}\n  training_file: {data}\n"
                f"  method: {{type: supervised, hyperparameters: {{n_epochs: {n_epochs}}}}}\n")
        (self.root / "models").mkdir(exist_ok=True)
        (self.root / "models" / f"{name}.yaml").write_text(text)

    def remove(self, name: str) -> None:
        (self.root / "models" / f"{name}.yaml").unlink()

    def remote(self) -> contextlib.AbstractContextManager[RemoteApi]:
        """The project's provider as the CLI opens it (same database, same speed: job status
        is computed from the speed, so another speed would see other statuses)."""
        loaded = app_project.load(str(self.root), with_datasets=False)
        assert loaded.desired is not None, loaded.diagnostics
        return open_remote(loaded.desired.settings, env={})


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "repo"
    root.mkdir()
    p = Project(root)
    p.settings()
    p.model("bot")
    return p


Ftctl = Callable[..., Result]


@pytest.fixture
def ftctl(project: Project) -> Ftctl:
    """Run the CLI on the project with a user key in the environment (it must never show)."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        environ = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": "", **(env or {})}
        result = CliRunner().invoke(main, ["-C", str(project.root), *args], env=environ,
                                    input=input)
        assert SECRET not in result.stdout + result.stderr
        return result

    return run


# -- in-process: the emulator on a fake clock -------------------------------------------------


class FakeClock:
    """Simulated time: the emulator reads it, the followers' sleep advances it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass
class Recorder:
    """A Reporter that keeps what it is told."""

    progress: list[JobProgress] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def step_started(self, step: Step) -> None:
        pass

    def step_finished(self, step: Step, result: StepResult) -> None:
        pass

    def job_progress(self, progress: JobProgress) -> None:
        self.progress.append(progress)

    def upload_progress(self, step: Step, sent: int, total: int) -> None:
        pass

    def message(self, text: str) -> None:
        self.messages.append(text)


@dataclass
class Local:
    """The project against an in-process emulator: paths seen, a workspace, apply --no-wait."""

    project: Project
    clock: FakeClock
    api: RemoteApi
    paths: list[str]

    def workspace(self) -> Workspace:
        loaded = app_project.load(str(self.project.root), with_datasets=False)
        assert loaded.desired is not None, loaded.diagnostics
        return Workspace(api=self.api, desired=loaded.desired)

    def open_remote(self, settings: object) -> contextlib.AbstractContextManager[RemoteApi]:
        return contextlib.nullcontext(self.api)

    def apply_no_wait(self) -> None:
        report = run_apply(str(self.project.root), None,
                           ApplyOptions(auto_approve=True, wait=False),
                           open_remote=self.open_remote, reporter=NullReporter(),
                           clock=self.clock, sleep=self.clock.advance)
        assert report.ok, report


@pytest.fixture
def local(project: Project, tmp_path: Path) -> Iterator[Local]:
    clock = FakeClock()
    app = make_app(str(tmp_path / "emulator.db"), api_key="sk-test", clock=clock, speed=1.0)
    paths: list[str] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        paths.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return app(environ, start_response)

    http = HttpClient("http://emulator.test/v1", "sk-test",
                      transport=httpx.WSGITransport(app=recording), sleep=lambda s: None,
                      allow_insecure_http=True)
    api = RemoteApi(http)
    yield Local(project=project, clock=clock, api=api, paths=paths)
    api.close()
    app.close()


@pytest.fixture
def recorder_cls() -> type[Recorder]:
    return Recorder

"""Fixtures for the apply tests: the real emulator in-process on a fake clock, a RemoteApi on
it, datasets on disk, and builders of plan.py Steps (data, not mocks)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import make_app
from reconciler.events import JobProgress, StepResult
from reconciler.plan import (
    Action,
    CreateJob,
    DeleteModel,
    FromStep,
    Reason,
    Step,
    UploadFile,
)
from reconciler.planner.identity import (
    META_NAME,
    META_VERSION,
    META_WORKSPACE,
    file_name,
    job_metadata,
    operation_id,
)
from reconciler.snapshot import JobStatus
from reconciler.spec import Check

WORKSPACE = "ws-test"
METHOD = json.dumps({"type": "supervised",
                     "supervised": {"hyperparameters": {"n_epochs": 1}}}, sort_keys=True)


class FakeClock:
    """Simulated time: the emulator reads it, the waiter's sleep advances it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_emulator(tmp_path: Path, clock: FakeClock) -> Callable[..., Any]:
    def build(**options: Any) -> Any:
        options.setdefault("speed", 50.0)
        return make_app(str(tmp_path / "emulator.db"), api_key="sk-test", clock=clock,
                        **options)
    return build


@pytest.fixture
def emulator(make_emulator: Callable[..., Any]) -> Any:
    return make_emulator()


def api_for(app: Any, **options: Any) -> RemoteApi:
    http = HttpClient("http://emulator.test/v1", "sk-test",
                      transport=httpx.WSGITransport(app=app), sleep=lambda s: None,
                      allow_insecure_http=True, **options)
    return RemoteApi(http)


@pytest.fixture
def api(emulator: Any) -> RemoteApi:
    return api_for(emulator)


@dataclass
class Recorder:
    """A Reporter that keeps everything it is told (thread-safe)."""

    started: list[str] = field(default_factory=list)
    finished: list[StepResult] = field(default_factory=list)
    progress: list[JobProgress] = field(default_factory=list)
    uploads: list[tuple[str, int, int]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def step_started(self, step: Step) -> None:
        with self.lock:
            self.started.append(step.key)

    def step_finished(self, step: Step, result: StepResult) -> None:
        with self.lock:
            self.finished.append(result)

    def job_progress(self, progress: JobProgress) -> None:
        with self.lock:
            self.progress.append(progress)

    def upload_progress(self, step: Step, sent: int, total: int) -> None:
        with self.lock:
            self.uploads.append((step.key, sent, total))

    def message(self, text: str) -> None:
        with self.lock:
            self.messages.append(text)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def azure_project(project: Project) -> Project:
    """`project` on the embedded emulator in Azure's dialect."""
    (project.root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        "provider:\n  type: local\n  dialect: azure\n")
    return project


def chat_lines(topic: str, n: int = 12) -> str:
    rows = [
        json.dumps({"messages": [{"role": "user", "content": f"{topic} question {i}"},
                                 {"role": "assistant", "content": f"{topic} answer {i}"}]})
        for i in range(n)
    ]
    return "\n".join(rows) + "\n"


@dataclass
class Steps:
    """Builders of plan Steps for one project directory."""

    root: Path

    def dataset(self, name: str, text: str | None = None) -> tuple[str, str, int]:
        """Write data/<name>.jsonl; returns (repo_path, sha256, bytes)."""
        path = self.root / "data" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (text if text is not None else chat_lines(name)).encode()
        path.write_bytes(data)
        return f"data/{name}.jsonl", hashlib.sha256(data).hexdigest(), len(data)

    def upload(self, name: str, text: str | None = None) -> Step:
        repo_path, sha, size = self.dataset(name, text)
        return Step(key=f"{name}/upload-train", action=Action.UPLOAD, name=name,
                    reason=Reason.NEW,
                    payload=UploadFile(repo_path=repo_path, sha256=sha, bytes=size,
                                       filename=file_name(sha)))

    def create(self, name: str, *, training: str | FromStep, model: str | FromStep =
               "gpt-4o-mini-2024-07-18", version: int = 1, depends_on: tuple[str, ...] = (),
               checks: tuple[Check, ...] = (), spec: str = "spec1") -> Step:
        op = operation_id(WORKSPACE, name, version, spec)
        meta = job_metadata(workspace=WORKSPACE, name=name, spec=spec, version=version, op=op,
                            commit=None)
        payload = CreateJob(name=name, model=model, training_file=training,
                            validation_file=None, method_json=METHOD, suffix=name, seed=7,
                            integrations_json=None, metadata=meta, version=version,
                            checks=checks)
        return Step(key=f"{name}/create-job-v{version}", action=Action.CREATE, name=name,
                    reason=Reason.NEW, payload=payload, depends_on=depends_on)

    def model_chain(self, name: str, **kw: Any) -> tuple[Step, Step]:
        up = self.upload(name)
        return up, self.create(name, training=FromStep(key=up.key, field="id"),
                               depends_on=(up.key,), **kw)

    def delete(self, name: str, model_id: str, depends_on: tuple[str, ...] = ()) -> Step:
        return Step(key=f"{name}/delete-{model_id}", action=Action.DELETE, name=name,
                    reason=Reason.SUPERSEDED, payload=DeleteModel(model_id=model_id),
                    depends_on=depends_on)


@pytest.fixture
def steps(tmp_path: Path) -> Steps:
    root = tmp_path / "project"
    root.mkdir()
    return Steps(root)


@dataclass
class Project:
    """A real project directory: ftctl.yaml, one manifest file per model, datasets."""

    root: Path
    workspace: str = WORKSPACE
    prune: bool = False

    def settings(self, **extra: Any) -> None:
        lines = ["apiVersion: ftctl/v1", "kind: Project", f"workspace: {self.workspace}",
                 "provider:", "  type: local", f"  speed: {extra.pop('speed', 5000)}",
                 f"prune: {'true' if self.prune else 'false'}"]
        lines += [f"{k}: {v}" for k, v in extra.items()]
        (self.root / "ftctl.yaml").write_text("\n".join(lines) + "\n")

    def data(self, topic: str, n: int = 12) -> str:
        path = self.root / "data" / f"{topic}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(chat_lines(topic, n))
        return f"../data/{topic}.jsonl"

    def model(self, name: str, *, base: str = "gpt-4o-mini-2024-07-18", data: str | None = None,
              n_epochs: int = 1, update: str = "retrain", keep_versions: int = 1,
              prevent_destroy: bool = False, checks: list[tuple[str, str]] = ()) -> None:
        path = data or self.data(name)
        model = f"{{ref: {base[4:]}}}" if base.startswith("ref:") else base
        lines = [
            "apiVersion: ftctl/v1", "kind: FineTunedModel", "metadata:", f"  name: {name}",
            "spec:", f"  model: {model}", f"  suffix: {name}", f"  training_file: {path}",
            "  method:", "    type: supervised", "    hyperparameters:",
            f"      n_epochs: {n_epochs}", "  seed: 7", f"  update: {update}", "  lifecycle:",
            f"    prevent_destroy: {'true' if prevent_destroy else 'false'}",
            f"    keep_versions: {keep_versions}",
        ]
        if checks:
            lines.append("  checks:")
            for prompt, expect in checks:
                lines += [f"    - prompt: {json.dumps(prompt)}",
                          f"      expect_contains: {json.dumps(expect)}"]
        models = self.root / "models"
        models.mkdir(exist_ok=True)
        (models / f"{name}.yaml").write_text("\n".join(lines) + "\n")

    def remove(self, name: str) -> None:
        (self.root / "models" / f"{name}.yaml").unlink()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "repo"
    root.mkdir()
    p = Project(root)
    p.settings()
    return p


def check_records(api: RemoteApi, names: set[str]) -> None:
    """The emulator's records after apply: each file stored once, one live job per model
    version, and exactly `names` serving a current fine-tuned model."""
    files = Counter(f.filename for f in api.list_files())
    assert all(n == 1 for n in files.values()), files
    jobs = api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
    live = Counter((j.meta(META_NAME), j.meta(META_VERSION)) for j in jobs
                   if j.status not in (JobStatus.CANCELLED, JobStatus.FAILED))
    assert all(n == 1 for n in live.values()), live
    models = {m.id for m in api.list_models()}
    serving = {j.meta(META_NAME) for j in jobs
               if j.status is JobStatus.SUCCEEDED and j.fine_tuned_model in models}
    assert serving == names

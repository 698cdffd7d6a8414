"""Crash points for `ftctl apply`: the emulator itself SIGKILLs the apply process when the k-th
request of a phase arrives, either before doing the work or after the work committed (the
answer never leaves), then a second apply must converge with nothing duplicated and nothing
deleted that should live. Counts come from the emulator's SQLite records.

Scenario: M models are trained at version 1 (in-process, simulated time). Then every dataset
and hyperparameter changes, and a real `python -m reconciler apply --auto-approve` process
uploads M files, creates M version-2 jobs, follows them, runs one check per model and
retires the M version-1 models, and is killed at the chosen point in one of those phases.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from reconciler.app import project as project_app
from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import ConnectionDropped, make_app
from reconciler.observe import observe
from reconciler.plan import PlanOptions
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import META_NAME, META_OP, META_VERSION, META_WORKSPACE
from reconciler.snapshot import JobStatus
from reconciler.spec import Settings

from .chaos import _Quiet

WORKSPACE = "crash"
MODELS = ("alpha", "beta", "gamma", "delta")
SPEED = 300.0  # a small job takes ~0.3 s of real time: the killed run sees it running
PHASES = ("upload", "create", "wait", "check", "retire")
_JOB = re.compile(r"^/v1/fine_tuning/jobs/[^/]+$")


class QuietHandler(WSGIRequestHandler):
    """No access log line per request on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None



def phase_of(method: str, path: str) -> str | None:
    if method == "POST" and (path == "/v1/files" or path.startswith("/v1/uploads")):
        return "upload"
    if method == "POST" and path == "/v1/fine_tuning/jobs":
        return "create"
    if method == "GET" and _JOB.match(path):
        return "wait"
    if method == "POST" and path in ("/v1/chat/completions", "/v1/completions"):
        return "check"
    if method == "DELETE" and path.startswith("/v1/models/"):
        return "retire"
    return None


@dataclass(frozen=True)
class KillPoint:
    """SIGKILL at the k-th request of `phase`, `before` the work or `after` it committed."""

    phase: str
    k: int
    when: str

    @property
    def id(self) -> str:
        return f"{self.phase}-{self.k}-{self.when}"


class ShiftClock:
    """Real time plus an offset: in-process applies 'sleep' by moving the offset instead."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)


class KillSwitch:
    """WSGI middleware: counts requests per phase and kills the target process at the point."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self.point: KillPoint | None = None
        self.pid: int | None = None
        self.fired = threading.Event()
        self._lock = threading.Lock()

    def arm(self, point: KillPoint, pid: int) -> None:
        with self._lock:
            self.counts.clear()
            self.point, self.pid = point, pid
            self.fired.clear()

    def disarm(self) -> None:
        with self._lock:
            self.point, self.pid = None, None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        phase = phase_of(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        with self._lock:
            if self.fired.is_set() and self.point is not None:
                raise ConnectionDropped("the apply process is being killed")
            hit = False
            if phase is not None and self.point is not None:
                self.counts[phase] += 1
                hit = self.point.phase == phase and self.counts[phase] == self.point.k
            when = self.point.when if hit and self.point else None
        if when == "before":
            self._kill()
            raise ConnectionDropped("killed before the work")
        result: Iterable[bytes] = self.app(environ, start_response)
        if when == "after":
            self._kill()  # the work committed; the answer never leaves
            raise ConnectionDropped("killed after the work")
        return result

    def _kill(self) -> None:
        self.fired.set()
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class CrashEmulator:
    """The emulator on loopback behind a KillSwitch, on a ShiftClock."""

    def __init__(self, db_path: str, api_key: str) -> None:
        self.db_path, self.api_key = db_path, api_key
        self.clock = ShiftClock()
        self.inner = make_app(db_path, api_key=api_key, speed=SPEED, clock=self.clock)
        self.switch = KillSwitch(self.inner)
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.switch, threaded=True,
                                                   request_handler=QuietHandler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def api(self) -> RemoteApi:
        return RemoteApi(HttpClient(self.base_url, self.api_key, sleep=self.clock.advance))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self.inner.close()


def write_project(root: Path, version: int) -> None:
    """M models; version 2 changes every dataset (one more example) and n_epochs."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        "provider: {type: local}\nconcurrency: 4\n")
    for name in MODELS:
        rows = [json.dumps({"messages": [{"role": "user", "content": f"{name} question {k}"},
                                         {"role": "assistant", "content": f"{name} answer {k}"}]})
                for k in range(10 + version)]
        (root / "data" / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
        (root / "models" / f"{name}.yaml").write_text(
            "apiVersion: ftctl/v1\nkind: FineTunedModel\n"
            f"metadata:\n  name: {name}\nspec:\n  model: gpt-4o-mini-2024-07-18\n"
            f"  suffix: {name}\n  training_file: ../data/{name}.jsonl\n"
            "  method:\n    type: supervised\n"
            f"    hyperparameters: {{n_epochs: {version}}}\n  seed: 7\n"
            "  lifecycle: {keep_versions: 1}\n"
            f"  checks:\n    - prompt: \"{name} question 2\"\n"
            f"      expect_contains: \"{name} answer 2\"\n")


def apply_in_process(root: Path, emu: CrashEmulator) -> None:
    """One apply through the real use case, sleeping in simulated time."""
    api = emu.api()

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    run_apply(str(root), None, ApplyOptions(auto_approve=True), open_remote=open_remote,
              reporter=_Quiet(), clock=emu.clock, sleep=emu.clock.advance)


def killed_apply(root: Path, emu: CrashEmulator, point: KillPoint) -> tuple[bool, str]:
    """Run `ftctl apply` as a process, killed at `point`. (was it killed, its output)."""
    env = {**os.environ, "OPENAI_BASE_URL": emu.base_url, "CI": "1", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(root), "apply", "--auto-approve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    emu.switch.arm(point, proc.pid)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        emu.switch.disarm()
    return proc.returncode == -signal.SIGKILL, out


@dataclass(frozen=True)
class Outcome:
    point: str
    killed: bool
    recovery_applies: int
    converged: bool
    duplicate_jobs_created: int
    duplicate_jobs_surviving: int
    duplicate_uploads: int
    wrongly_deleted: tuple[str, ...]
    serving_versions: dict[str, int]


def recover_and_measure(root: Path, emu: CrashEmulator, point: KillPoint, killed: bool,
                        v1_models: set[str]) -> Outcome:
    applies = 0
    api = emu.api()
    while applies < 3:
        applies += 1
        apply_in_process(root, emu)
        if not pending(root, api):
            break
    serving = serving_versions(api)
    live_models = {m.id for m in api.list_models()}
    deleted = deleted_models(emu.db_path)
    # Only version-1 models may be gone, and only once version 2 of that model serves.
    wrongly = tuple(sorted(m for m in deleted if m not in v1_models or m in live_models))
    created, surviving = duplicate_jobs(emu.db_path, api)
    return Outcome(point=point.id, killed=killed, recovery_applies=applies,
                   converged=not pending(root, api), duplicate_jobs_created=created,
                   duplicate_jobs_surviving=surviving,
                   duplicate_uploads=duplicate_uploads(emu.db_path),
                   wrongly_deleted=wrongly, serving_versions=serving)


def pending(root: Path, api: RemoteApi) -> list[str]:
    loaded = project_app.load(str(root))
    assert loaded.desired is not None, loaded.diagnostics
    plan = make_plan(loaded.desired, observe(api, loaded.desired), PlanOptions())
    return [s.key for s in plan.changes]


def serving_versions(api: RemoteApi) -> dict[str, int]:
    """name -> the version whose fine-tuned model exists (highest when several)."""
    models = {m.id for m in api.list_models()}
    out: dict[str, int] = {}
    for job in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE}):
        name = job.meta(META_NAME)
        if name and job.status is JobStatus.SUCCEEDED and job.fine_tuned_model in models:
            out[name] = max(out.get(name, 0), int(job.meta(META_VERSION) or 0))
    return dict(sorted(out.items()))


def v1_models(api: RemoteApi) -> set[str]:
    return {j.fine_tuned_model for j in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
            if j.fine_tuned_model}


def deleted_models(db: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM deleted_models")}


def duplicate_uploads(db: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM files WHERE deleted = 0 "
                            "AND purpose = 'fine-tune' GROUP BY filename").fetchall()
    return sum(n - 1 for (n,) in rows)


def duplicate_jobs(db: str, api: RemoteApi) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT jobs.id, job_metadata.value FROM jobs JOIN job_metadata "
                            "ON job_metadata.job_seq = jobs.seq AND job_metadata.key = ?",
                            (META_OP,)).fetchall()
    status = {j.id: j.status for j in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})}
    per_op = Counter(op for _, op in rows)
    live = Counter(op for job_id, op in rows
                   if status.get(job_id) not in (JobStatus.CANCELLED, JobStatus.FAILED))
    return sum(n - 1 for n in per_op.values()), sum(n - 1 for n in live.values())


def run_point(base: Path, point: KillPoint, api_key: str) -> tuple[Outcome, str]:
    """Train v1, change everything, kill a real apply at `point`, recover, measure."""
    root = base / "repo"
    emu = CrashEmulator(str(base / "emulator.db"), api_key)
    try:
        write_project(root, 1)
        apply_in_process(root, emu)
        api = emu.api()
        assert serving_versions(api) == dict.fromkeys(sorted(MODELS), 1)
        before = v1_models(api)
        write_project(root, 2)
        killed, output = killed_apply(root, emu, point)
        return recover_and_measure(root, emu, point, killed, before), output
    finally:
        emu.stop()


def all_points() -> list[KillPoint]:
    return [KillPoint(phase, k, when) for phase in PHASES for k in range(1, len(MODELS) + 1)
            for when in ("before", "after")]

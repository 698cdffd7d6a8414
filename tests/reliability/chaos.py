"""Chaos runs: `apply` of many models against an emulator that faults a share of requests.

One run: a project of N models (one small dataset each) is applied, through the real apply
use case (load -> observe -> plan -> execute -> wait), against the emulator in-process with
`faults` set to the level's mix (429 with Retry-After, 500, 503, connection resets, slow
answers and responses lost after the write committed), on a simulated clock that the
client's backoff and the waiter's polling advance. If an apply ends with failed steps (a
request that kept failing past the client's retry budget), apply runs again, as an operator
or CI would, up to MAX_APPLIES times. Then the emulator's SQLite records are read to count:
- converged: a fresh plan (through a fault-free client) has no changes and every model has a
  succeeded current version;
- duplicate jobs created (per operation id beyond the first) and surviving (live ones beyond
  one): surviving must be 0;
- duplicate uploads (files stored twice under one content-addressed name): must be 0;
- requests per model: HTTP attempts the client made (retries included) / N.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from reconciler.app import project as project_app
from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import ConnectionDropped, make_app
from reconciler.emulator.server import create_server
from reconciler.events import StepStatus
from reconciler.observe import observe
from reconciler.plan import PlanOptions
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import META_NAME, META_OP, META_WORKSPACE
from reconciler.snapshot import JobStatus
from reconciler.spec import Settings

KEY = "sk-chaos"
WORKSPACE = "chaos"
MAX_APPLIES = 4
# Share of each fault kind within the faulted requests (adds up to 1).
MIX = (("429", 0.30), ("500", 0.10), ("503", 0.10), ("reset", 0.15), ("lost", 0.30),
       ("slow", 0.05))
SLOW_SECONDS = 0.02  # real seconds a "slow" answer waits (kept short: runs are many)


def fault_spec(rate: float) -> str:
    return ",".join(f"{kind}:{rate * share:.4f}" for kind, share in MIX)


class SimClock:
    """Simulated seconds: the emulator reads it, client backoff and the waiter advance it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)


class DroppingTransport(httpx.WSGITransport):
    """In-process transport: the emulator's dropped connection becomes httpx's error."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError("Server disconnected", request=request) from exc


_ID = re.compile(r"(ftjob|file|upload|part|ft)[-:][A-Za-z0-9:._-]+")


class Tally:
    """WSGI middleware counting attempts per "METHOD path" (ids folded to {id})."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = _ID.sub("{id}", environ.get("PATH_INFO", ""))
        key = f"{environ['REQUEST_METHOD']} {path}"
        with self._lock:
            self.counts[key] += 1
        _current.request = key  # the emulator draws its fault on this same thread
        return self.app(environ, start_response)


_current = threading.local()


class _Quiet:
    """A Reporter that drops everything (the run is judged from the remote's records)."""

    def step_started(self, step: Any) -> None: ...
    def step_finished(self, step: Any, result: Any) -> None: ...
    def job_progress(self, progress: Any) -> None: ...
    def upload_progress(self, step: Any, sent: int, total: int) -> None: ...
    def message(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunResult:
    seed: int
    rate: float
    models: int
    converged: bool
    applies: int
    duplicate_jobs_created: int
    duplicate_jobs_surviving: int
    duplicate_uploads: int
    requests: int
    faults: dict[str, int]
    failures: tuple[str, ...] = ()  # failed steps of applies before the last (why re-applied)
    by_request: dict[str, int] | None = None  # "METHOD path" -> attempts (in-process runs)

    @property
    def requests_per_model(self) -> float:
        return self.requests / self.models


def write_project(root: Path, n: int) -> None:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        "provider: {type: local}\nconcurrency: 8\n")
    for i in range(n):
        name = f"model-{i:03d}"
        rows = [json.dumps({"messages": [
            {"role": "user", "content": f"{name} question {k}"},
            {"role": "assistant", "content": f"{name} answer {k}"}]}) for k in range(10)]
        (root / "data" / f"{name}.jsonl").write_text("\n".join(rows) + "\n")
        (root / "models" / f"{name}.yaml").write_text(
            "apiVersion: ftctl/v1\nkind: FineTunedModel\n"
            f"metadata:\n  name: {name}\nspec:\n  model: gpt-4o-mini-2024-07-18\n"
            f"  suffix: {name}\n  training_file: ../data/{name}.jsonl\n"
            "  method:\n    type: supervised\n    hyperparameters: {n_epochs: 1}\n  seed: 7\n")


def client(app: Any, clock: SimClock, seed: int) -> RemoteApi:
    http = HttpClient("http://emulator.test/v1", KEY, transport=DroppingTransport(app=app),
                      sleep=clock.advance, allow_insecure_http=True, rng=random.Random(seed))
    return RemoteApi(http)


def run_once(base: Path, *, seed: int, rate: float, models: int = 50,
             loopback: bool = False) -> RunResult:
    """One chaos run. loopback: the emulator on a real socket (resets and lost answers are
    closed TCP connections) instead of in-process WSGI."""
    root, db = base / "repo", base / "emulator.db"
    write_project(root, models)
    clock = SimClock()
    with contextlib.ExitStack() as stack:
        api, injected, tally = _faulty_remote(stack, str(db), clock, seed=seed, rate=rate,
                                              loopback=loopback)
        clean = make_app(str(db), api_key=KEY, speed=50.0, clock=clock)
        stack.callback(clean.close)
        checker = client(clean, clock, seed)
        applies, failures = _apply_until_converged(root, api, checker, clock)
        created, surviving = duplicate_jobs(str(db), checker)
        return RunResult(
            seed=seed, rate=rate, models=models, converged=converged(root, checker),
            applies=applies, duplicate_jobs_created=created, duplicate_jobs_surviving=surviving,
            duplicate_uploads=duplicate_uploads(str(db)), requests=api.http.request_count,
            faults=dict(sorted(injected.items())), failures=tuple(failures),
            by_request=None if loopback else dict(sorted(tally.items())),
        )
    raise AssertionError("unreachable")


def _faulty_remote(stack: contextlib.ExitStack, db: str, clock: SimClock, *, seed: int,
                   rate: float, loopback: bool) -> tuple[RemoteApi, Counter[str], Counter[str]]:
    tally: Counter[str] = Counter()
    if loopback:
        server = create_server(db, api_key=KEY, speed=50.0, faults=fault_spec(rate), seed=seed,
                               clock=clock).start()
        stack.callback(server.stop)
        app: Any = server.app
        http = HttpClient(server.base_url, KEY, sleep=clock.advance, rng=random.Random(seed))
        api = RemoteApi(http)
    else:
        app = make_app(db, api_key=KEY, speed=50.0, faults=fault_spec(rate), seed=seed,
                       clock=clock)
        stack.callback(app.close)
        tallied = Tally(app)
        tally = tallied.counts
        api = client(tallied, clock, seed)
    app.faults.plan = replace(app.faults.plan, slow_seconds=SLOW_SECONDS)
    stack.callback(api.close)
    return api, count_faults(app), tally


def _apply_until_converged(root: Path, api: RemoteApi, checker: RemoteApi,
                           clock: SimClock) -> tuple[int, list[str]]:
    """Apply (again) until converged, as CI would; (applies made, failed steps seen)."""

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    applies, failures = 0, []
    while applies < MAX_APPLIES:
        applies += 1
        report = run_apply(str(root), None, ApplyOptions(auto_approve=True, poll_interval=5.0),
                           open_remote=open_remote, reporter=_Quiet(), clock=clock,
                           sleep=clock.advance)
        if converged(root, checker):
            break
        failures += [f"{r.key}: {r.message}" for r in report.results
                     if r.status is StepStatus.FAILED]
    return applies, failures


def count_faults(app: Any) -> Counter[str]:
    """Wrap the emulator's fault draw to count what it injected, per kind, and (in-process,
    where Tally names the request) per "kind METHOD path"."""
    counts: Counter[str] = Counter()
    draw = app.faults.draw

    def counted() -> str | None:
        kind: str | None = draw()
        if kind is not None:
            counts[kind] += 1
            request = getattr(_current, "request", None)
            if request is not None:
                counts[f"{kind} {request}"] += 1
        return kind

    app.faults.draw = counted
    return counts


def converged(root: Path, api: RemoteApi) -> bool:
    loaded = project_app.load(str(root))
    assert loaded.desired is not None, loaded.diagnostics
    plan = make_plan(loaded.desired, observe(api, loaded.desired), PlanOptions())
    if plan.changes:
        return False
    served = {m.id for m in api.list_models()}
    current = {j.meta(META_NAME) for j in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
               if j.status is JobStatus.SUCCEEDED and j.fine_tuned_model in served}
    return current == {m.name for m in loaded.desired.manifests}


def duplicate_uploads(db: str) -> int:
    """Files stored more than once under the same (content-addressed) name."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT filename, COUNT(*) FROM files WHERE deleted = 0 "
                            "AND purpose = 'fine-tune' GROUP BY filename").fetchall()
    return sum(n - 1 for _, n in rows)


def duplicate_jobs(db: str, api: RemoteApi) -> tuple[int, int]:
    """(jobs created beyond one per operation id, live ones beyond one per operation id)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT jobs.id, job_metadata.value FROM jobs JOIN job_metadata "
                            "ON job_metadata.job_seq = jobs.seq AND job_metadata.key = ?",
                            (META_OP,)).fetchall()
    per_op = Counter(op for _, op in rows)
    status = {j.id: j.status for j in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})}
    live = Counter(op for job_id, op in rows
                   if status.get(job_id) not in (JobStatus.CANCELLED, JobStatus.FAILED))
    return (sum(n - 1 for n in per_op.values()), sum(n - 1 for n in live.values()))


def _mean_per_model(runs: list[RunResult], prefixes: tuple[str, ...]) -> float | None:
    """Mean attempts per model of requests starting with one of prefixes (in-process runs)."""
    counted = [r for r in runs if r.by_request is not None]
    if not counted:
        return None
    total = sum(n for r in counted for key, n in (r.by_request or {}).items()
                if key.startswith(prefixes))
    return round(total / sum(r.models for r in counted), 2)


def summarize(results: list[RunResult]) -> dict[str, Any]:
    """Per-level figures for benchmarks/results/chaos.json and docs/reliability.md."""
    levels: dict[str, Any] = {}
    for rate in sorted({r.rate for r in results}):
        runs = [r for r in results if r.rate == rate]
        rpm = [r.requests_per_model for r in runs]
        levels[f"{round(rate * 100)}%"] = {
            "runs": len(runs),
            "converged": sum(r.converged for r in runs),
            "converged_on_first_apply": sum(r.converged and r.applies == 1 for r in runs),
            "max_applies": max(r.applies for r in runs),
            "duplicate_jobs_created": sum(r.duplicate_jobs_created for r in runs),
            "duplicate_jobs_surviving": sum(r.duplicate_jobs_surviving for r in runs),
            "duplicate_uploads": sum(r.duplicate_uploads for r in runs),
            "faults_injected": sum(n for r in runs for k, n in r.faults.items() if " " not in k),
            "create_answers_lost": sum(r.faults.get("lost POST /v1/fine_tuning/jobs", 0)
                                       for r in runs),
            "upload_answers_lost": sum(r.faults.get("lost POST /v1/files", 0) for r in runs),
            "writes_per_model_mean": _mean_per_model(runs, ("POST", "DELETE")),
            "job_polls_per_model_mean": _mean_per_model(runs, ("GET /v1/fine_tuning/jobs/",)),
            "requests_per_model_mean": round(sum(rpm) / len(rpm), 2),
            "requests_per_model_max": round(max(rpm), 2),
        }
    return {"models": results[0].models if results else 0, "fault_mix": dict(MIX),
            "levels": levels, "runs": [asdict(r) for r in results]}

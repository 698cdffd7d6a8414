"""Plan benchmark: `python -m benchmarks.plan [--manifests N] [--history K] [--files F]`.

A no-change plan of N (default 2,000) manifests against the emulator on loopback (its own
`ftctl emulator serve` process) holding N x K (default 20,000) managed jobs of this workspace
(K versions per model, the older ones retired) and F (default 20,000) content-addressed files.
The emulator's SQLite state is seeded directly through its Store, from the plan the real
planner makes against an empty remote, so the seeded jobs are exactly what apply would create.

Reported: wall time of `run_plan` with a cold dataset cache and again warm (the sha256 and
inspection cache in .ftctl/cache), HTTP requests made (they must grow with pages, not with
models), and the refresh alone (`observe`) against the baseline: a naive refresh that GETs
every model's current job one by one, measured in the same run on the same server. With
`--baseline COMMIT` (default: BASELINE, main before the plan-at-scale work) the warm plan and
`ftctl validate` are also timed with that commit's code and this tree's, alternately, on the
same project and server (benchmarks/versus.py).
Prints Markdown; writes benchmarks/results/plan.json.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import math
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import versus
from benchmarks.emulator import KEY, serve
from reconciler.app import project
from reconciler.app.plan import run_plan
from reconciler.client.api import FILES_PAGE, JOBS_PAGE, RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import make_app
from reconciler.emulator.context import new_id
from reconciler.emulator.job_request import build_job_doc
from reconciler.observe import observe
from reconciler.plan import CreateJob, FromStep, PlanOptions, UploadFile
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import META_NAME, META_OP, META_VERSION, file_name, operation_id
from reconciler.snapshot import Snapshot
from reconciler.spec import Settings

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
RESULTS = HERE / "results" / "plan.json"
WORKSPACE = "bench"
BASELINE = "e5cf43b"  # main before the C YAML parser and the compiled schema check
# Alternations of the side-by-side comparison: each pair is two fresh processes of a few
# seconds, and on a shared machine one noisy pair moves a median of 3 too easily.
VERSUS_RUNS = 5
DAY = 86_400.0


def write_project(root: Path, n: int, *, rows: int = 10) -> None:
    """N manifests, each with its own small dataset (distinct bytes, so N distinct files)."""
    if root.exists():
        shutil.rmtree(root)
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        f"apiVersion: ftctl/v1\nkind: Project\nworkspace: {WORKSPACE}\n"
        "provider: {type: local}\nconcurrency: 8\n")
    for i in range(n):
        name = f"m{i:05d}"
        lines = [json.dumps({"messages": [
            {"role": "user", "content": f"{name} question {k}"},
            {"role": "assistant", "content": f"{name} answer {k}"}]}) for k in range(rows)]
        (root / "data" / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
        (root / "models" / f"{name}.yaml").write_text(
            "apiVersion: ftctl/v1\nkind: FineTunedModel\n"
            f"metadata:\n  name: {name}\nspec:\n  model: gpt-4o-mini-2024-07-18\n"
            f"  suffix: {name}\n  training_file: ../data/{name}.jsonl\n"
            "  method:\n    type: supervised\n    hyperparameters: {n_epochs: 1}\n  seed: 7\n")


def seed(root: Path, db: Path, *, history: int, files: int) -> dict[str, Any]:
    """Fill the emulator's database so that the project's plan has no changes.

    Per model: `history` jobs (versions 1..history), all succeeded long ago; only the newest
    one's model still exists (the older ones were retired). Files: one per dataset, plus old
    content-addressed files up to `files` in all. Returns counts and timing.
    """
    started = time.perf_counter()
    loaded = project.load(str(root))
    assert loaded.desired is not None, loaded.diagnostics
    desired = loaded.desired
    first = make_plan(desired, Snapshot(workspace=WORKSPACE), PlanOptions())
    app = make_app(str(db), api_key=KEY, speed=1000.0)
    store, now = app.store, time.time()
    try:
        file_ids: dict[str, str] = {}
        uploads = [s for s in first.changes if isinstance(s.payload, UploadFile)]
        for step in uploads:
            assert isinstance(step.payload, UploadFile)
            file_ids[step.key] = _put_file(store, root, step.payload, now - 400 * DAY)
        old_files = max(0, files - len(uploads))
        filler = _put_blob(store, b'{"messages": []}\n')
        for i in range(old_files):
            sha = hashlib.sha256(f"old-{i}".encode()).hexdigest()
            store.insert_file({"id": new_id("file-", 22), "created_at": int(now - 500 * DAY),
                               "bytes": 17, "filename": file_name(sha), "purpose": "fine-tune",
                               "blob": filler})
        creates = [s.payload for s in first.changes if isinstance(s.payload, CreateJob)]
        jobs = 0
        for payload in creates:
            assert isinstance(payload, CreateJob)
            jobs += _put_versions(app, payload, file_ids, history, now)
    finally:
        app.close()
    return {"manifests": len(desired.manifests), "jobs": jobs, "files": len(uploads) + old_files,
            "seed_s": round(time.perf_counter() - started, 2)}


def _put_blob(store: Any, content: bytes) -> str:
    name = "seed-" + hashlib.sha256(content).hexdigest()[:24]
    Path(store.blob_path(name)).write_bytes(content)
    return name


def _put_file(store: Any, root: Path, p: UploadFile, created: float) -> str:
    file_id = new_id("file-", 22)
    blob = _put_blob(store, (root / p.repo_path).read_bytes())
    store.insert_file({"id": file_id, "created_at": int(created), "bytes": p.bytes,
                       "filename": p.filename, "purpose": p.purpose, "blob": blob})
    return file_id


def _body(p: CreateJob, file_ids: dict[str, str]) -> dict[str, Any]:
    """The create body the executor would send (its _body), upload references resolved."""
    def resolve(value: str | FromStep) -> str:
        return file_ids[value.key] if isinstance(value, FromStep) else value

    body: dict[str, Any] = {"model": resolve(p.model), "training_file": resolve(p.training_file),
                            "method": json.loads(p.method_json), "metadata": dict(p.metadata)}
    if p.suffix:
        body["suffix"] = p.suffix
    if p.seed is not None:
        body["seed"] = p.seed
    return body


def _put_versions(app: Any, p: CreateJob, file_ids: dict[str, str], history: int,
                  now: float) -> int:
    """Versions 1..history of one model; all but the newest have their model deleted."""
    doc = build_job_doc(app.ctx, _body(p, file_ids))
    spec = dict(p.metadata)
    for version in range(1, history + 1):
        meta = {**doc["metadata"], META_VERSION: str(version),
                META_OP: operation_id(WORKSPACE, spec[META_NAME], version, spec["ftctl-spec"])}
        this = {**copy.deepcopy(doc), "metadata": meta,
                "fine_tuned_model": doc["fine_tuned_model"].rsplit(":", 1)[0] + ":"
                + new_id("", 8), "result_file": new_id("file-", 22)}
        created = now - (history - version + 2) * DAY
        app.store.insert_job(new_id("ftjob-"), created, this)
        if version < history:
            app.store.delete_model(this["fine_tuned_model"], int(created + DAY))
    return history


@contextlib.contextmanager
def remote(base_url: str) -> Iterator[RemoteApi]:
    api = RemoteApi(HttpClient(base_url, KEY, timeout=600))
    try:
        yield api
    finally:
        api.close()


def timed_plan(root: Path, base_url: str) -> dict[str, Any]:
    """One `run_plan` (load + datasets + refresh + plan) through a fresh client."""
    clients: list[RemoteApi] = []

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        with remote(base_url) as api:
            clients.append(api)
            yield api

    started = time.perf_counter()
    run = run_plan(str(root), open_remote=open_remote)
    wall = time.perf_counter() - started
    assert run.plan is not None, run.diagnostics
    changes = len(run.plan.changes)
    assert changes == 0, f"expected a no-change plan, got {changes} changes"
    return {"wall_s": round(wall, 3), "requests": clients[0].http.request_count,
            "changes": changes, "noop_steps": len(run.plan.steps)}


def refresh_vs_naive(root: Path, base_url: str) -> dict[str, Any]:
    """observe() alone vs the naive refresh: one GET per model's current job."""
    desired = project.load(str(root), with_datasets=False).desired
    assert desired is not None
    with remote(base_url) as api:
        started = time.perf_counter()
        snapshot = observe(api, desired)
        observe_s, observe_requests = time.perf_counter() - started, api.http.request_count
    served = {m.id for m in snapshot.models}
    current = [j.id for j in snapshot.jobs if j.fine_tuned_model in served]
    with remote(base_url) as api:
        started = time.perf_counter()
        for job_id in current:
            api.get_job(job_id)
        naive_s, naive_requests = time.perf_counter() - started, api.http.request_count
    return {"observe_s": round(observe_s, 3), "observe_requests": observe_requests,
            "jobs_seen": len(snapshot.jobs), "files_seen": len(snapshot.files),
            "models_seen": len(snapshot.models),
            "naive_s": round(naive_s, 3), "naive_requests": naive_requests,
            "naive_models": len(current)}


def _median(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample with the median wall time, plus every wall time seen."""
    ordered = sorted(samples, key=lambda s: float(s["wall_s"]))
    return {**ordered[len(ordered) // 2], "all_wall_s": [s["wall_s"] for s in samples]}


def run(manifests: int, history: int, files: int, *, naive: bool = True,
        data_dir: Path = DATA, runs: int = 1, baseline: str | None = None,
        versus_runs: int = VERSUS_RUNS) -> dict[str, Any]:
    work = data_dir / f"plan-{manifests}x{history}"
    root, db = work / "repo", work / "emulator.db"
    write_project(root, manifests)
    for stale in work.glob("emulator.db*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    seeded = seed(root, db, history=history, files=files)
    pages = (math.ceil(seeded["jobs"] / JOBS_PAGE) + math.ceil(seeded["files"] / FILES_PAGE)
             + 1)  # + GET /models
    with serve(db) as (base_url, _):
        colds, warms = [], []
        for _ in range(runs):  # alternate, so load changes on a shared machine hit both
            shutil.rmtree(root / ".ftctl", ignore_errors=True)
            colds.append(timed_plan(root, base_url))
            warms.append(timed_plan(root, base_url))
        refreshes = [refresh_vs_naive(root, base_url) for _ in range(runs if naive else 0)]
        against = (versus.compare(baseline, root, base_url, runs=versus_runs,
                                  data_dir=data_dir)
                   if baseline else None)
    cold, warm = _median(colds), _median(warms)
    refresh = {k: (statistics.median(r[k] for r in refreshes) if k.endswith("_s") else v)
               for k, v in refreshes[0].items()} if refreshes else {}
    res = {"seeded": seeded, "pages": pages, "cold": cold, "warm": warm, "refresh": refresh,
           "requests_within_pages": cold["requests"] <= pages + 2}
    return {**res, "versus": against} if against else res


def markdown(res: dict[str, Any]) -> str:
    s, c, w, r = res["seeded"], res["cold"], res["warm"], res["refresh"]
    lines = [f"No-change plan of {s['manifests']:,} manifests; emulator holds {s['jobs']:,} "
             f"managed jobs and {s['files']:,} files (loopback, own process).", "",
             "| measurement | value | baseline | ratio |", "|---|---|---|---|",
             f"| plan, cold dataset cache (median of {len(c.get('all_wall_s', [1]))}) | "
             f"{c['wall_s']:.2f} s, {c['requests']} requests ({res['pages']} pages) | - | - |",
             f"| plan, warm hash cache | {w['wall_s']:.2f} s, {w['requests']} requests | "
             f"{c['wall_s']:.2f} s cold | {c['wall_s'] / w['wall_s']:.2f}x as fast |"]
    if r:
        lines.append(
            f"| refresh (observe) | {r['observe_s']:.2f} s, {r['observe_requests']} requests | "
            f"naive GET per model: {r['naive_s']:.2f} s, {r['naive_requests']} requests "
            f"(jobs only) | {r['naive_s'] / r['observe_s']:.2f}x faster, "
            f"{r['naive_requests'] / r['observe_requests']:.1f}x fewer requests |")
    if res.get("versus"):
        lines += ["", versus.markdown(res["versus"], s["manifests"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plan")
    parser.add_argument("--manifests", type=int, default=2000)
    parser.add_argument("--history", type=int, default=10, help="jobs per model")
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3, help="cold+warm pairs; median")
    parser.add_argument("--baseline", default=BASELINE, metavar="COMMIT",
                        help="also time plan and validate with this commit's code ('' skips)")
    parser.add_argument("--versus-runs", type=int, default=VERSUS_RUNS,
                        help="alternations of the comparison with --baseline; median")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    res = run(args.manifests, args.history, args.files, runs=args.runs,
              baseline=args.baseline or None, versus_runs=args.versus_runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(markdown(res))
    return 0 if res["requests_within_pages"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Apply under the active-jobs limit: `python -m benchmarks.apply [--models N] [--max-running K]`.

Applies N (default 200) new models, each with its own dataset, through the real apply use case
against the emulator on loopback (its own `ftctl emulator serve` process) with its concurrency
cap on: at most K (default 20) jobs run at once, the rest wait queued, as the provider's
active-jobs limit does. The bound: no client can finish before one job's validate-and-queue
time plus ceil(N/K) waves of one job's training time. Reported: total time against that bound,
failed steps (must be 0) and HTTP requests per model (retries and polling included).
The request-rate limit (429s) is benchmarks/apply_ratelimit.py; the 1 GB upload's client
memory is benchmarks/apply_upload.py (the apply engineer's); `python -m benchmarks` runs all.
Prints Markdown; writes benchmarks/results/apply.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.emulator import KEY
from benchmarks.plan import DATA, write_project
from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import lifecycle
from reconciler.events import NullReporter, StepStatus
from reconciler.snapshot import JobStatus
from reconciler.spec import Settings

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "apply.json"
SPEED = 20.0  # simulated seconds per real second: one small job trains in ~3 s


@contextlib.contextmanager
def serve_limited(db: Path, max_running: int, speed: float) -> Iterator[str]:
    """`ftctl emulator serve --max-running K` on a free loopback port; yields base_url."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", "--db",
         str(db), "--api-key", KEY, "--speed", str(speed), "--max-running", str(max_running)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bound_seconds(n: int, cap: int, speed: float, trained_tokens: int) -> float:
    """The fastest any client could finish: one lead-in, then ceil(n/cap) waves of training."""
    lead_in = lifecycle.VALIDATE_SECONDS + lifecycle.QUEUE_SECONDS
    train = lifecycle.TRAIN_BASE_SECONDS + trained_tokens / lifecycle.TOKENS_PER_SECOND
    return (lead_in + math.ceil(n / cap) * train) / speed


def run(n: int, cap: int, speed: float = SPEED) -> dict[str, Any]:
    work = DATA / f"apply-{n}"
    root, db = work / "repo", work / "emulator.db"
    write_project(root, n)
    for stale in work.glob("emulator.db*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    with serve_limited(db, cap, speed) as base_url:
        api = RemoteApi(HttpClient(base_url, KEY, timeout=600))

        @contextlib.contextmanager
        def open_remote(settings: Settings) -> Iterator[RemoteApi]:
            yield api

        started = time.perf_counter()
        report = run_apply(str(root), None, ApplyOptions(auto_approve=True),
                           open_remote=open_remote, reporter=NullReporter())
        wall = time.perf_counter() - started
        requests = api.http.request_count
        api.close()
    tokens = max((j.trained_tokens or 0 for j in report.jobs), default=0)
    bound = bound_seconds(n, cap, speed, tokens)
    return {"models": n, "max_running": cap, "speed": speed, "wall_s": round(wall, 2),
            "bound_s": round(bound, 2), "ratio_to_bound": round(wall / bound, 2),
            "failed_steps": report.count(StepStatus.FAILED),
            "done_steps": report.count(StepStatus.DONE),
            "jobs_succeeded": sum(1 for j in report.jobs if j.status is JobStatus.SUCCEEDED),
            "requests": requests, "requests_per_model": round(requests / n, 1), "ok": report.ok}


def markdown(a: dict[str, Any]) -> str:
    return "\n".join([
        "| measurement | value | bound | ratio |", "|---|---|---|---|",
        f"| apply {a['models']} new models, at most {a['max_running']} running (speed "
        f"{a['speed']:g}) | {a['wall_s']:.1f} s, {a['failed_steps']} failed, "
        f"{a['jobs_succeeded']} succeeded | {a['bound_s']:.1f} s active-jobs bound | "
        f"{a['ratio_to_bound']:.2f}x |",
        f"| requests per model | {a['requests_per_model']} ({a['requests']} in all, polling "
        "included) | - | - |"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.apply")
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--max-running", type=int, default=20)
    parser.add_argument("--speed", type=float, default=SPEED)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    res = run(args.models, args.max_running, args.speed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(markdown(res))
    return 0 if res["failed_steps"] == 0 and res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

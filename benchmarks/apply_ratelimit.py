"""Apply under a rate limit: `python -m benchmarks.apply_ratelimit [--models N] [--rate R]`.

Applies N (default 200) new models, each with its own dataset, against the emulator behind a
rate limit of R requests/s (default 100, burst 10; GCRA), answering 429 with Retry-After
as OpenAI does. Jobs train at a very high emulator speed, so the run is bound by the rate limit:
its lower bound is (requests apply needs) / R. Reports total time against that bound, requests
per model, 429s met, and failures (must be 0). Writes benchmarks/results/apply_ratelimit.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from reconciler.app.apply import ApplyOptions, run_apply
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator import make_app
from reconciler.events import NullReporter, StepStatus
from reconciler.spec import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "apply_ratelimit.json"
KEY = "sk-bench"


class RateLimited:
    """WSGI middleware: a token bucket in front of the emulator; counts every request."""

    def __init__(self, app: Any, rate: float, burst: int) -> None:
        self.app, self.rate, self.burst = app, rate, burst
        self.tat = time.monotonic()  # GCRA: theoretical arrival time of the next request
        self.herd = 0.0  # the latest retry time handed out to a refused request
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def _take(self) -> float:
        """0 when the request is admitted, else seconds to wait (Retry-After). Refused
        requests are told staggered times, one slot apart, as a fair server would."""
        with self.lock:
            now, slot = time.monotonic(), 1.0 / self.rate
            if self.tat - self.burst * slot <= now:
                self.tat = max(self.tat, now) + slot
                return 0.0
            self.herd = max(self.herd, self.tat - self.burst * slot) + slot
            return self.herd - now

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        kind = f"{environ['REQUEST_METHOD']} {_kind(environ['PATH_INFO'])}"
        wait = self._take()
        with self.lock:
            self.counts[kind if not wait else "429"] += 1
        if not wait:
            return self.app(environ, start)  # type: ignore[no-any-return]
        body = json.dumps({"error": {"message": "Rate limit reached for requests",
                                     "type": "requests", "param": None,
                                     "code": "rate_limit_exceeded"}}).encode()
        start("429 Too Many Requests", [
            ("Content-Type", "application/json"),
            ("Retry-After", str(max(1, math.ceil(wait)))),
            ("retry-after-ms", str(max(1, int(wait * 1000)))),
        ])
        return [body]


def _kind(path: str) -> str:
    """`/v1/fine_tuning/jobs/ftjob-1/events` -> `fine_tuning/jobs/{id}/events`."""
    parts = [p for p in path.split("/") if p][1:]
    return "/".join("{id}" if "-" in p and p[:1].isalpha() and p.split("-")[0] in _PREFIXES
                    else p for p in parts)


_PREFIXES = {"ftjob", "file", "ft:gpt", "upload_", "ftckpt_"}


def write_project(root: Path, n: int) -> None:
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ftctl.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: Project\nworkspace: bench\nprovider:\n  type: local\n")
    for i in range(n):
        name = f"m{i:03d}"
        rows = [{"messages": [{"role": "user", "content": f"{name} question {k}"},
                              {"role": "assistant", "content": f"{name} answer {k}"}]}
                for k in range(10)]
        (root / "data" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        (root / "models" / f"{name}.yaml").write_text(
            f"apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata:\n  name: {name}\n"
            f"spec:\n  model: gpt-4o-mini-2024-07-18\n  training_file: ../data/{name}.jsonl\n"
            "  method:\n    type: supervised\n    hyperparameters:\n      n_epochs: 1\n")


def run(n: int, rate: float, burst: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        write_project(root, n)
        limited = RateLimited(make_app(str(Path(tmp) / "e.db"), api_key=KEY, speed=1e6),
                              rate, burst)
        # Retries must outlast contention for tokens: several workers wait on the same bucket.
        http = HttpClient("http://emulator.test/v1", KEY, max_retries=40,
                          transport=httpx.WSGITransport(app=limited), allow_insecure_http=True)
        api = RemoteApi(http)

        @contextlib.contextmanager
        def open_remote(settings: Settings) -> Iterator[RemoteApi]:
            yield api

        start = time.perf_counter()
        report = run_apply(str(root), None, ApplyOptions(auto_approve=True,
                                                          concurrency=concurrency),
                           open_remote=open_remote, reporter=NullReporter())
        elapsed = time.perf_counter() - start
    served = sum(v for k, v in limited.counts.items() if k != "429")
    bound = max(0.0, (served - burst) / rate)
    return {
        "models": n, "rate_per_s": rate, "burst": burst, "concurrency": concurrency,
        "seconds": round(elapsed, 2), "rate_bound_seconds": round(bound, 2),
        "ratio_to_bound": round(elapsed / bound, 3) if bound else None,
        "requests_served": served, "requests_per_model": round(served / n, 2),
        "rate_limited_429": limited.counts["429"],
        "failed_steps": report.count(StepStatus.FAILED), "ok": report.ok,
        "by_kind": dict(sorted((k, v) for k, v in limited.counts.items() if k != "429")),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    result = run(args.models, args.rate, args.burst, args.concurrency)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| models | rate/s | seconds | bound s | ratio | req/model | 429s | failed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {result['models']} | {result['rate_per_s']} | {result['seconds']} | "
          f"{result['rate_bound_seconds']} | {result['ratio_to_bound']} | "
          f"{result['requests_per_model']} | {result['rate_limited_429']} | "
          f"{result['failed_steps']} |")
    print(json.dumps(result["by_kind"], indent=2))


if __name__ == "__main__":
    main()

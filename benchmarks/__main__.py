"""Every benchmark in one command: `python -m benchmarks [--quick] [--only NAME ...]`.

Runs each benchmark module in its own process (one failing does not stop the others; its
peak memory is its own), in the order of BENCHMARKS, with smaller inputs under --quick. Each
writes benchmarks/results/<name>.json; this then writes benchmarks/RESULTS.md from those files
(ratios against the baselines each benchmark measured in the same run) and the scaling plots
in benchmarks/plots/. `--report-only` rewrites RESULTS.md from the JSON already there.
A --quick run leaves the published results/*.json and plots/*.png as they were (its own go to
benchmarks/.data/quick-results/), so a smoke run never replaces full-size figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"


@dataclass(frozen=True)
class Bench:
    name: str  # benchmarks/results/<name>.json and --only NAME
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    timeout_s: int


BENCHMARKS = (
    Bench("emulator", "benchmarks.emulator", (),
          ("--jobs", "1000", "--upload-mb", "128", "--pages-manifests", "200"), 3600),
    Bench("datasets", "benchmarks.datasets", (), ("--rows", "50000", "--runs", "1"), 7200),
    Bench("plan", "benchmarks.plan", (),
          ("--manifests", "500", "--history", "10", "--files", "5000"), 3600),
    Bench("apply", "benchmarks.apply", (), ("--models", "50", "--max-running", "10"), 1800),
    Bench("apply_ratelimit", "benchmarks.apply_ratelimit", (), ("--models", "50"), 1800),
    Bench("apply_upload", "benchmarks.apply_upload", (), ("--mb", "256"), 1800),
    Bench("scaling", "benchmarks.scaling", (), ("--quick",), 7200),
)
ALIASES = {"apply": ("apply", "apply_ratelimit", "apply_upload")}


def selected(only: list[str] | None) -> list[Bench]:
    if not only:
        return list(BENCHMARKS)
    names = {n for item in only for n in ALIASES.get(item, (item,))}
    unknown = names - {b.name for b in BENCHMARKS}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; choose from "
                         + ", ".join(b.name for b in BENCHMARKS))
    return [b for b in BENCHMARKS if b.name in names]


def run_one(bench: Bench, quick: bool) -> dict[str, Any]:
    """Run one benchmark module; its figures land in results/<name>.json."""
    args = bench.quick if quick else bench.full
    cmd = [sys.executable, "-m", bench.module, *args]
    print(f"== {bench.name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=HERE.parent, timeout=bench.timeout_s, check=False,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
        code: int | str = done.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    seconds = round(time.perf_counter() - started, 1)
    print(f"== {bench.name}: exit {code} after {seconds} s", flush=True)
    return {"exit": code, "seconds": seconds, "args": list(args)}


def _snapshot(directory: Path, pattern: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.glob(pattern)} if directory.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller inputs: a few minutes on 2 cores")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this benchmark (repeatable): "
                        + ", ".join(b.name for b in BENCHMARKS))
    parser.add_argument("--report-only", action="store_true",
                        help="only rewrite RESULTS.md from benchmarks/results/*.json")
    args = parser.parse_args(argv)
    runs_path = RESULTS_DIR / "runs.json"
    runs: dict[str, Any] = json.loads(runs_path.read_text()) if runs_path.exists() else {}
    published = _snapshot(RESULTS_DIR, "*.json") if args.quick else {}
    plots = _snapshot(HERE / "plots", "*.png") if args.quick else {}
    if not args.report_only:
        for bench in selected(args.only):
            runs[bench.name] = {**run_one(bench, args.quick), "quick": args.quick,
                                "finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                                "load_after": round(os.getloadavg()[0], 1)}
        runs["_machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                            "platform": platform.platform()}
        RESULTS_DIR.mkdir(exist_ok=True)
        runs_path.write_text(json.dumps(runs, indent=2) + "\n")
    text = report.render(RESULTS_DIR, runs)
    (HERE / "RESULTS.md").write_text(text)
    print(f"wrote {HERE / 'RESULTS.md'}")
    if args.quick and not args.report_only:
        # A quick run checks that everything works; it must not replace the published full
        # figures: its JSON moves to .data/quick-results/ and the earlier files come back.
        quick_dir = HERE / ".data" / "quick-results"
        quick_dir.mkdir(parents=True, exist_ok=True)
        for path in RESULTS_DIR.glob("*.json"):
            shutil.copyfile(path, quick_dir / path.name)
        for name, content in published.items():
            (RESULTS_DIR / name).write_bytes(content)
        for name, content in plots.items():
            shutil.copyfile(HERE / "plots" / name, quick_dir / name)
            (HERE / "plots" / name).write_bytes(content)
    failed = [n for n, r in runs.items() if not n.startswith("_") and r.get("exit") != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

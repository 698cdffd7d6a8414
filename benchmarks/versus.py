"""This tree against an earlier commit, side by side in one run: plan and `ftctl validate`.

The earlier commit is exported once (`git archive`) under benchmarks/.data/baseline-<commit>;
each measurement runs in a child process whose PYTHONPATH is either that export or this tree,
alternating, so both see the same machine load, the same project files and the same emulator.
Measured per tree: a no-change `run_plan` with a warm hash cache (timed inside the child by
the plan benchmark's own `timed_plan`, as each tree has it) and `python -m reconciler validate`
(wall time of the whole process, as a user sees it; no network). Both trees are compiled to
bytecode first, as installed packages are.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
_CHILD_PLAN = (
    "import json, sys; from pathlib import Path; from benchmarks.plan import timed_plan; "
    "print(json.dumps(timed_plan(Path(sys.argv[1]), sys.argv[2])))"
)


def export(commit: str, data_dir: Path) -> Path:
    """The files of `commit` under data_dir/baseline-<commit> (made once)."""
    out = data_dir / f"baseline-{commit}"
    if not (out / "reconciler" / "__init__.py").exists():
        archive = subprocess.run(["git", "-C", str(TREE), "archive", commit], check=True,
                                 capture_output=True).stdout
        out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(out, filter="data")
    return out


def compiled(tree: Path) -> Path:
    """`tree` with its modules compiled to bytecode, as an installed package has them (pip
    compiles on install). Without this, a tree run under PYTHONDONTWRITEBYTECODE (as CI and
    this machine set it) compiles every module it imports on every run, and the two trees
    would be measured unevenly whenever only one of them had a __pycache__ left over."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "reconciler"),
                    str(tree / "benchmarks")], check=True, capture_output=True)
    return tree


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1", "CI": "1"}


def plan_in(tree: Path, root: Path, base_url: str) -> float:
    """Wall seconds of one no-change run_plan, timed in a child running `tree`'s code."""
    done = subprocess.run([sys.executable, "-c", _CHILD_PLAN, str(root), base_url], cwd=tree,
                          env=_env(tree), check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["changes"] == 0, result
    return float(result["wall_s"])


def validate_in(tree: Path, root: Path) -> float:
    """Wall seconds of `python -m reconciler -C root validate` with `tree`'s code."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", "-C", str(root), "validate"],
                          cwd=tree, env=_env(tree), check=False, capture_output=True)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-2000:]
    return seconds


def compare(commit: str, root: Path, base_url: str, *, runs: int, data_dir: Path) -> dict[str, Any]:
    """Median seconds per tree and the ratios (earlier / now), measured alternately."""
    before, now = compiled(export(commit, data_dir)), compiled(TREE)
    samples: dict[str, list[float]] = {k: [] for k in
                                       ("plan_before", "plan_now", "validate_before",
                                        "validate_now")}
    validate_in(now, root)  # warms the hash cache both trees read
    for _ in range(runs):
        samples["plan_before"].append(plan_in(before, root, base_url))
        samples["plan_now"].append(plan_in(now, root, base_url))
        samples["validate_before"].append(validate_in(before, root))
        samples["validate_now"].append(validate_in(now, root))
    med = {k: round(statistics.median(v), 3) for k, v in samples.items()}
    return {"commit": commit, "runs": runs, **med,
            "all": {k: [round(x, 3) for x in v] for k, v in samples.items()},
            "plan_speedup": round(med["plan_before"] / med["plan_now"], 2),
            "validate_speedup": round(med["validate_before"] / med["validate_now"], 2)}


def markdown(v: dict[str, Any], manifests: int) -> str:
    return "\n".join([
        f"Against commit `{v['commit']}`, measured alternately in the same run "
        f"(median of {v['runs']}; each in its own process):", "",
        "| measurement | this tree | commit " + v["commit"] + " | speed-up | goal |",
        "|---|---|---|---|---|",
        f"| no-change plan, {manifests:,} manifests, warm hash cache | {v['plan_now']:.2f} s | "
        f"{v['plan_before']:.2f} s | {v['plan_speedup']:.2f}x | at least 3x |",
        f"| `ftctl validate`, {manifests:,} manifests (whole process, no network) | "
        f"{v['validate_now']:.2f} s | {v['validate_before']:.2f} s | "
        f"{v['validate_speedup']:.2f}x | at least 4x |",
    ])

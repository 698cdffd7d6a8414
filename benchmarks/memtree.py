"""Peak memory of a whole process tree, sampled from /proc (Linux): what a CI runner pays.

`run_tree(cmd)` starts cmd and, every few milliseconds until it exits, sums over the process
and all its descendants:
- Pss (proportional set size): each page counted once, shared pages split between the
  processes that map them. The honest total: a tokenizer loaded before fork and shared by two
  workers counts once, as it occupies memory once.
- Rss: every process's resident pages, shared ones counted in each (an upper bound).
The peaks of both sums are returned with wall time and the largest number of processes seen.
Sampling can miss a peak shorter than the interval; the interval is small next to the runs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any

INTERVAL_S = 0.01


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(Pss, Rss) of one process in kB; (0, 0) once it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def run_tree(cmd: Sequence[str], cwd: str | None = None,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    # stdout goes to a file: a pipe nobody reads until the end could fill up and block the child.
    with tempfile.TemporaryFile("w+") as sink:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=sink, stderr=subprocess.DEVNULL,
                                text=True)
        peak_pss = peak_rss = peak_procs = 0
        while proc.poll() is None:
            sizes = [_memory_kb(p) for p in _tree(proc.pid)]
            peak_pss = max(peak_pss, sum(s[0] for s in sizes))
            peak_rss = max(peak_rss, sum(s[1] for s in sizes))
            peak_procs = max(peak_procs, sum(1 for s in sizes if s[1]))
            time.sleep(INTERVAL_S)
        wall = time.perf_counter() - started
        sink.seek(0)
        out = sink.read()
    return {"wall": round(wall, 3), "pss_sum_mb": round(peak_pss / 1024, 1),
            "rss_sum_mb": round(peak_rss / 1024, 1), "processes": peak_procs,
            "exit": proc.returncode, "stdout": out}


if __name__ == "__main__":
    import json
    import sys

    result = run_tree(sys.argv[1:])
    result.pop("stdout")
    print(json.dumps(result))
    sys.exit(0 if os.name == "posix" else 1)

"""Emulator benchmarks: `python -m benchmarks.emulator [--jobs N] [--upload-mb M]
[--pages-manifests K] [--pages-baseline COMMIT]`.

1. List N (default 10,000) jobs by metadata filter, page by page (limit 100, `after` cursor),
   from a database holding as many other jobs; baseline: the same number of pages unfiltered.
2. Upload a 1 GB file through the Uploads API in 64 MB parts streamed from disk, watching the
   server process's peak memory (VmHWM, must stay under 200 MB); baseline: copying the same
   file on the same disk.
3. Serve the pages of a plan's refresh (the plan benchmark's database: K (default 2,000) models
   x 10 jobs, 20,000 files) with this tree and with COMMIT (default PAGES_BASELINE) side by
   side, alternating rounds: jobs by metadata filter (limit 100) and fine-tune files (limit
   10,000), per page the wall time and the server process's CPU time. The first round reads
   every object (nothing kept yet); later rounds are what a long-running emulator serves.
Each phase runs its own `ftctl emulator serve` processes on loopback, so memory and CPU are
the server's alone. Prints a Markdown table and writes benchmarks/results/emulator.json.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

KEY = "sk-bench"
MB = 1024 * 1024
RESULTS = Path(__file__).resolve().parent / "results" / "emulator.json"
MEMORY_LIMIT_MB = 200.0


@contextmanager
def serve(db: Path, tree: Path | None = None) -> Iterator[tuple[str, int]]:
    """Run `ftctl emulator serve` on a free loopback port, with the code of `tree` (default:
    what this process imports); yield (base_url, pid)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if tree is not None:  # `-m` puts the working directory first on the path, so run there
        env["PYTHONPATH"] = str(tree)
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", "--db",
         str(db), "--api-key", KEY, "--speed", "1000"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=tree,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield line.removeprefix("listening on "), proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not found for pid {pid}")


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"},
                        timeout=600)


def dataset(path: Path) -> Path:
    rows = [{"messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": f"answer {i}"}]} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def walk(http: httpx.Client, params: dict[str, Any], max_items: int) -> tuple[int, list[float]]:
    """Page through /fine_tuning/jobs; returns (items seen, seconds per page)."""
    seen, times, after = 0, [], None
    while seen < max_items:
        query = {**params, "limit": 100, **({"after": after} if after else {})}
        start = time.perf_counter()
        body = http.get("/fine_tuning/jobs", params=query).json()
        times.append(time.perf_counter() - start)
        seen += len(body["data"])
        if not body["has_more"]:
            break
        after = body["data"][-1]["id"]
    return seen, times


def bench_listing(work: Path, n_jobs: int) -> dict[str, Any]:
    with serve(work / "list.db") as (url, _), client(url) as http:
        with dataset(work / "train.jsonl").open("rb") as fh:
            fid = http.post("/files", files={"file": ("train.jsonl", fh)},
                            data={"purpose": "fine-tune"}).json()["id"]
        start = time.perf_counter()
        for i in range(2 * n_jobs):  # interleaved: every other job is someone else's
            workspace = "bench" if i % 2 == 0 else "other"
            r = http.post("/fine_tuning/jobs", json={
                "model": "gpt-4o-mini-2024-07-18", "training_file": fid,
                "metadata": {"ftctl-workspace": workspace, "ftctl-name": f"m{i}"}})
            r.raise_for_status()
        create_s = time.perf_counter() - start
        filtered, f_times = walk(http, {"metadata[ftctl-workspace]": "bench"}, n_jobs + 1)
        plain, p_times = walk(http, {}, n_jobs)
    assert filtered == n_jobs, f"filter returned {filtered} jobs, expected {n_jobs}"
    return {
        "jobs_in_db": 2 * n_jobs, "matching": filtered, "create_per_s": 2 * n_jobs / create_s,
        "filtered_s": sum(f_times), "filtered_pages": len(f_times),
        "filtered_page_ms_p50": statistics.median(f_times) * 1000,
        "filtered_page_ms_max": max(f_times) * 1000,
        "baseline_unfiltered_s": sum(p_times), "baseline_pages": len(p_times),
        "baseline_page_ms_p50": statistics.median(p_times) * 1000,
    }


class PartReader:
    """A seekable window of `size` bytes of `fh` starting at `start`, hashing what is read, so
    httpx can size the multipart body and stream it from disk without holding the part."""

    def __init__(self, fh: Any, start: int, size: int, md5: Any) -> None:
        self._fh, self._start, self._size, self._md5 = fh, start, size, md5
        self._pos = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        n = self._size - self._pos if n < 0 else min(n, self._size - self._pos)
        self._fh.seek(self._start + self._pos)
        chunk = bytes(self._fh.read(n))
        self._pos += len(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)
        return chunk


def make_big_file(path: Path, size: int) -> None:
    line = (json.dumps({"messages": [{"role": "user", "content": "x" * 200},
                                     {"role": "assistant", "content": "y" * 200}]}) + "\n")
    block = (line * (MB // len(line) + 1)).encode()[:MB]
    with path.open("wb") as out:
        for _ in range(size // MB):
            out.write(block)


def bench_upload(work: Path, size_mb: int, part_mb: int) -> dict[str, Any]:
    big = work / "big.jsonl"
    make_big_file(big, size_mb * MB)
    start = time.perf_counter()
    shutil.copyfile(big, work / "copy.jsonl")
    copy_s = time.perf_counter() - start
    os.unlink(work / "copy.jsonl")
    with serve(work / "upload.db") as (url, pid), client(url) as http:
        idle = memory_mb(pid, "VmRSS")
        md5 = hashlib.md5(usedforsecurity=False)
        start = time.perf_counter()
        up = http.post("/uploads", json={"bytes": size_mb * MB, "filename": "big.jsonl",
                                         "purpose": "fine-tune", "mime_type": "text/jsonl"})
        upload_id, part_ids = up.json()["id"], []
        with big.open("rb") as fh:
            for offset in range(0, size_mb * MB, part_mb * MB):
                reader = PartReader(fh, offset, min(part_mb * MB, size_mb * MB - offset), md5)
                part: Any = ("upload", reader)  # file-like enough for httpx; not an IO[bytes]
                r = http.post(f"/uploads/{upload_id}/parts", files={"data": part})
                r.raise_for_status()
                part_ids.append(r.json()["id"])
        done = http.post(f"/uploads/{upload_id}/complete",
                         json={"part_ids": part_ids, "md5": md5.hexdigest()})
        done.raise_for_status()
        upload_s = time.perf_counter() - start
        peak = memory_mb(pid, "VmHWM")
    assert done.json()["file"]["bytes"] == size_mb * MB
    return {"bytes": size_mb * MB, "parts": len(part_ids), "upload_s": upload_s,
            "upload_mb_per_s": size_mb / upload_s, "baseline_copy_s": copy_s,
            "server_idle_rss_mb": idle, "server_peak_rss_mb": peak,
            "memory_limit_mb": MEMORY_LIMIT_MB, "within_limit": peak < MEMORY_LIMIT_MB}


PAGES_BASELINE = "cae8302"  # main before the emulator kept answers and read seqs from indexes
# What a plan's refresh asks for: (kind, path, params, page size, walks per later round: the
# server's CPU time is read in clock ticks, so a measurement must span many of them).
_REFRESH_PAGES = (
    ("jobs", "/fine_tuning/jobs", {"metadata[ftctl-workspace]": "bench"}, 100, 3),
    ("files", "/files", {"purpose": "fine-tune"}, 10_000, 20),
)


def page_through(http: httpx.Client, path: str, params: dict[str, Any], limit: int,
                 pid: int, walks: int) -> tuple[int, float, float, str]:
    """Every page of a listing, `walks` times: (pages, wall s, server CPU s, sha256 of the
    answers of one walk)."""
    digest, pages = hashlib.sha256(), 0
    cpu, start = cpu_s(pid), time.perf_counter()
    for walk in range(walks):
        after = None
        while True:
            r = http.get(path, params={**params, "limit": limit,
                                       **({"after": after} if after else {})})
            r.raise_for_status()
            if walk == 0:
                digest.update(r.content)
            pages += 1
            body = orjson.loads(r.content)  # the server's time, not the client's parsing
            if not body["has_more"]:
                break
            after = body["data"][-1]["id"]
    return pages, time.perf_counter() - start, cpu_s(pid) - cpu, digest.hexdigest()


def bench_pages(work: Path, baseline: str, *, manifests: int, rounds: int) -> dict[str, Any]:
    """The refresh's pages served by this tree and by `baseline`, alternately, each from its
    own copy of one seeded database."""
    from benchmarks import plan, versus  # plan imports this module

    plan.write_project(work / "repo", manifests)
    seeded = plan.seed(work / "repo", work / "seed.db", history=10, files=10 * manifests)
    trees = {"before": versus.compiled(versus.export(baseline, plan.DATA)),
             "now": versus.compiled(versus.TREE)}
    samples: dict[str, list[tuple[float, float]]] = {}
    digests: dict[str, set[str]] = {kind: set() for kind, *_ in _REFRESH_PAGES}
    with contextlib.ExitStack() as stack:
        servers = {}
        for name, tree in trees.items():
            db = work / f"{name}.db"
            shutil.copyfile(work / "seed.db", db)
            shutil.copytree(work / "seed.db.blobs", work / f"{name}.db.blobs")
            url, pid = stack.enter_context(serve(db, tree))
            servers[name] = (stack.enter_context(client(url)), pid)
        for n in range(rounds):
            for name, (http, pid) in servers.items():
                for kind, path, params, limit, walks in _REFRESH_PAGES:
                    pages, wall, cpu, digest = page_through(http, path, params, limit, pid,
                                                            1 if n == 0 else walks)
                    samples.setdefault(f"{name}_{kind}_{'first' if n == 0 else 'kept'}",
                                       []).append((wall / pages, cpu / pages))
                    digests[kind].add(digest)
                    if n == 0:  # the first read recorded the seeded jobs' ends: now kept
                        page_through(http, path, params, limit, pid, 1)
    out: dict[str, Any] = {"baseline": baseline, "rounds": rounds, "seeded": seeded,
                           "same_answers": all(len(d) == 1 for d in digests.values())}
    for key, values in samples.items():
        out[key + "_wall_ms"] = round(statistics.median(v[0] for v in values) * 1000, 3)
        out[key + "_cpu_ms"] = round(statistics.median(v[1] for v in values) * 1000, 3)
    return out


def _pages_rows(p: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for kind, label in (("jobs", "jobs page (100, metadata filter)"),
                        ("files", "files page (10,000)")):
        for when, note in (("kept", "long-running server"), ("first", "first read")):
            now, before = (p[f"{tree}_{kind}_{when}_cpu_ms"] for tree in ("now", "before"))
            wall_now, wall_before = (p[f"{tree}_{kind}_{when}_wall_ms"]
                                     for tree in ("now", "before"))
            rows.append((f"{label}, {note}: server CPU / wall per page",
                         f"{now:.2f} / {wall_now:.2f} ms",
                         f"{before:.2f} / {wall_before:.2f} ms at {p['baseline']}",
                         f"{before / max(now, 1e-9):.2f}x / {wall_before / wall_now:.2f}x faster"))
    return rows


def table(listing: dict[str, Any], upload: dict[str, Any],
          pages: dict[str, Any] | None = None) -> str:
    rows = [
        ("metric", "value", "baseline", "ratio"),
        (f"list {listing['matching']:,} jobs by metadata filter ({listing['filtered_pages']} "
         f"pages) of {listing['jobs_in_db']:,}", f"{listing['filtered_s']:.2f} s",
         f"{listing['baseline_unfiltered_s']:.2f} s unfiltered",
         f"{listing['filtered_s'] / listing['baseline_unfiltered_s']:.2f}x"),
        ("page latency p50 / max", f"{listing['filtered_page_ms_p50']:.1f} / "
         f"{listing['filtered_page_ms_max']:.1f} ms", f"{listing['baseline_page_ms_p50']:.1f} ms",
         f"{listing['filtered_page_ms_p50'] / listing['baseline_page_ms_p50']:.2f}x"),
        ("job creates (setup)", f"{listing['create_per_s']:.0f} /s", "-", "-"),
        (f"upload {upload['bytes'] // MB} MB in {upload['parts']} parts",
         f"{upload['upload_s']:.1f} s ({upload['upload_mb_per_s']:.0f} MB/s)",
         f"{upload['baseline_copy_s']:.1f} s disk copy",
         f"{upload['upload_s'] / upload['baseline_copy_s']:.1f}x"),
        ("server peak memory during upload", f"{upload['server_peak_rss_mb']:.0f} MB",
         f"{upload['server_idle_rss_mb']:.0f} MB idle",
         f"{upload['server_peak_rss_mb'] / upload['server_idle_rss_mb']:.2f}x "
         f"({'under' if upload['within_limit'] else 'OVER'} {MEMORY_LIMIT_MB:.0f} MB)"),
    ]
    if pages:
        rows += _pages_rows(pages)
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--part-mb", type=int, default=64)
    parser.add_argument("--pages-manifests", type=int, default=2_000)
    parser.add_argument("--pages-baseline", default=PAGES_BASELINE)
    parser.add_argument("--pages-rounds", type=int, default=4)
    parser.add_argument("--only-pages", action="store_true",
                        help="measure only the refresh's pages against the baseline")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ftctl-bench-") as tmp:
        pages = bench_pages(Path(tmp) / "pages", args.pages_baseline,
                            manifests=args.pages_manifests, rounds=args.pages_rounds)
        if args.only_pages:
            print("\n".join("| " + " | ".join(r) + " |" for r in _pages_rows(pages)))
            print(f"same answers from both trees: {pages['same_answers']}")
            return 0
        listing = bench_listing(Path(tmp), args.jobs)
        upload = bench_upload(Path(tmp), args.upload_mb, args.part_mb)
    print(table(listing, upload, pages))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {"listing": listing, "upload": upload, "pages": pages,
               "machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count()}}
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if upload["within_limit"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

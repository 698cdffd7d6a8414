"""Emulator benchmarks: `python -m benchmarks.emulator [--jobs N] [--upload-mb M]`.

1. List N (default 10,000) jobs by metadata filter, page by page (limit 100, `after` cursor),
   from a database holding as many other jobs; baseline: the same number of pages unfiltered.
2. Upload a 1 GB file through the Uploads API in 64 MB parts streamed from disk, watching the
   server process's peak memory (VmHWM, must stay under 200 MB); baseline: copying the same
   file on the same disk.
Each phase runs its own `ftctl emulator serve` process on loopback, so memory is the server's
alone. Prints a Markdown table and writes benchmarks/results/emulator.json.
"""

from __future__ import annotations

import argparse
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

KEY = "sk-bench"
MB = 1024 * 1024
RESULTS = Path(__file__).resolve().parent / "results" / "emulator.json"
MEMORY_LIMIT_MB = 200.0


@contextmanager
def serve(db: Path) -> Iterator[tuple[str, int]]:
    """Run `ftctl emulator serve` on a free loopback port; yield (base_url, pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--port", "0", "--db",
         str(db), "--api-key", KEY, "--speed", "1000"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
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


def table(listing: dict[str, Any], upload: dict[str, Any]) -> str:
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
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--upload-mb", type=int, default=1024)
    parser.add_argument("--part-mb", type=int, default=64)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ftctl-bench-") as tmp:
        listing = bench_listing(Path(tmp), args.jobs)
        upload = bench_upload(Path(tmp), args.upload_mb, args.part_mb)
    print(table(listing, upload))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {"listing": listing, "upload": upload,
               "machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count()}}
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if upload["within_limit"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

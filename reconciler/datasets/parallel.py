"""Token counting over byte ranges of a file in worker processes (both cores on big files).

Each worker re-reads and re-parses its own range and returns one count per physical line
(-1 for a line that is not a JSON object), so the parent can join them by line number while it
validates the structure itself. Ranges start and end on line boundaries.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from multiprocessing.pool import AsyncResult

import orjson

from reconciler.datasets.reading import BOM, iter_chunks
from reconciler.datasets.tokens import count_example

PARALLEL_MIN_BYTES = 16 * 1024 * 1024


def worker_count(size: int, jobs: int | None) -> int:
    """How many processes to use: 1 for small files, else `jobs` or the number of CPUs."""
    if jobs is not None:
        return max(1, jobs)
    if size < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def split_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    """Byte ranges covering the file, each ending just after a newline (or at EOF)."""
    size = os.path.getsize(path)
    bounds = [0]
    with open(path, "rb") as f:
        for i in range(1, parts):
            f.seek(max(bounds[-1], size * i // parts))
            f.readline()
            pos = f.tell()
            if pos >= size:
                break
            bounds.append(pos)
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def count_range(args: tuple[str, int, int, str]) -> array[int]:
    """Per-line token counts of one byte range (runs in a worker)."""
    path, start, end, encoding = args
    out: array[int] = array("q")
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for lines in iter_chunks(path, start=start, end=end):
        for line in lines:
            try:
                obj = loads(line)
            except decode_error:
                obj = _lenient(line)
            out.append(count_example(obj, encoding) if type(obj) is dict else -1)
    return out


def _lenient(line: bytes) -> object:
    if line.startswith(BOM):
        try:
            return orjson.loads(line[3:])
        except orjson.JSONDecodeError:
            return None
    return None


class TokenJob:
    """Counts tokens of a whole file in the background; `result()` joins the per-line counts."""

    def __init__(self, path: str, encoding: str, workers: int) -> None:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        ranges = split_ranges(path, workers)
        self._pool = ctx.Pool(len(ranges))
        self._async: AsyncResult[list[array[int]]] = self._pool.map_async(
            count_range, [(path, a, b, encoding) for a, b in ranges]
        )

    def result(self) -> array[int]:
        try:
            parts = self._async.get()
        finally:
            self._pool.close()
            self._pool.join()
        joined: array[int] = array("q")
        for part in parts:
            joined.extend(part)
        return joined

    def cancel(self) -> None:
        self._pool.terminate()
        self._pool.join()

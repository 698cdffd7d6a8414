"""Scanning a big file in several processes: the file is cut into more byte ranges than there
are processes, each process takes the next unscanned range whenever it finishes one, and the
parent joins the parts in file order.

Taking ranges one by one keeps both cores busy to the end even when other work on the machine
slows one process down (with one fixed half each, the faster process would wait for the other).
Ranges start and end on line boundaries. Workers are forked, so they share the parent's string
hash secret and their 64-bit line hashes can be compared by the parent for duplicates. The
parent loads the tokenizer (about 100 MB) before forking, so the workers share its pages
instead of each loading its own copy: the memory a run costs stays that of one tokenizer.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from array import array
from collections.abc import Callable
from multiprocessing.connection import Connection

from reconciler.datasets.codes import Levels
from reconciler.datasets.pages import trim_heap
from reconciler.datasets.scan import Scan
from reconciler.datasets.tokens import counter_for

PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, forking costs more than it saves
RANGE_MIN_BYTES = 8 * 1024 * 1024  # a range is worth its own Scan (and its trip home)
RANGES_PER_WORKER = 8  # enough to even out a process that gets less CPU than the others

ScanArgs = tuple[
    str, int, int, str, str | None, str | None, str | None, int, str | None, bool, Levels
]


def worker_count(size: int, jobs: int | None) -> int:
    """How many processes to use: 1 for small files, else `jobs` or the number of CPUs."""
    if jobs is not None:
        return max(1, jobs)
    if size < PARALLEL_MIN_BYTES or os.name != "posix":
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def range_count(size: int, workers: int) -> int:
    """How many ranges to cut a file of `size` bytes into for `workers` processes."""
    return max(workers, min(RANGES_PER_WORKER * workers, size // RANGE_MIN_BYTES))


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
            if pos > bounds[-1]:
                bounds.append(pos)
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def scan_part(args: ScanArgs) -> Scan:
    """Run one range. The first range chooses the format; later ones get it."""
    path, start, end, display, method, model, encoding, cap, fixed, first, levels = args
    scan = Scan(
        display, method=method, model=model, encoding=encoding, cap=cap,
        fixed_format=None if first else fixed, dedupe=False, levels=levels,
    )
    if not first and fixed is None:
        scan._fix(None)
    scan.run(path, start, end)
    scan.checker = None  # a bound method need not travel back
    return scan


def run_parts(jobs: list[ScanArgs], workers: int) -> list[Scan]:
    """Scan every range in `workers` processes: this one and forked children, each taking the
    next range from a shared counter. Children send their parts when no range is left; the
    parent works instead of waiting. Returns the parts in file order."""
    encoding = jobs[0][6]
    if encoding is not None:
        counter_for(encoding)  # loaded once here; forked children inherit the pages
    ctx = multiprocessing.get_context("fork")
    taken = ctx.Value("i", 0)  # ranges handed out so far (with its own lock)

    def take() -> int | None:
        with taken.get_lock():
            index = int(taken.value)
            if index >= len(jobs):
                return None
            taken.value = index + 1
        return index

    # Objects that exist now are left alone by the garbage collector until the parts are in:
    # a collection writes to every object it visits, which would copy the shared pages.
    gc.freeze()
    children = []
    for _ in range(min(workers, len(jobs)) - 1):
        receiver, sender = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(jobs, take, sender), daemon=True)
        child.start()
        sender.close()
        children.append((child, receiver))
    try:
        parts = dict(_scan_ranges(jobs, take))
        for _, receiver in children:
            parts.update(_receive(receiver))
    except BaseException:  # a failure or Ctrl-C: the children's work is of no use any more
        for child, _ in children:
            child.terminate()
        raise
    finally:
        for child, receiver in children:
            receiver.close()
            child.join()
        gc.unfreeze()
    return [parts[i] for i in range(len(jobs))]


def _scan_ranges(jobs: list[ScanArgs], take: Callable[[], int | None]) -> list[tuple[int, Scan]]:
    done = []
    while (index := take()) is not None:
        done.append((index, scan_part(jobs[index])))
        if jobs[index][6] is not None:  # with tokens, memory is tight: hand back what it freed
            trim_heap()
    return done


# The per-example arrays of a Scan travel as raw bytes, written straight from the child's
# arrays into arrays the parent allocates once: no pickled copy on either side.
_ARRAYS = ("example_lines", "counts", "hashes")


def _child(jobs: list[ScanArgs], take: Callable[[], int | None], sender: Connection) -> None:
    try:
        done = _scan_ranges(jobs, take)
    except Exception as exc:  # noqa: BLE001 - the parent re-raises it
        sender.send(exc)
        sender.close()
        return
    sender.send(len(done))
    for index, scan in done:
        arrays = [getattr(scan, name) for name in _ARRAYS]
        for name in _ARRAYS:
            setattr(scan, name, None)
        sender.send((index, scan))
        sender.send([(a.typecode, len(a)) for a in arrays])
        for a in arrays:
            if len(a):
                sender.send_bytes(memoryview(a).cast("B"))
    sender.close()


def _receive(receiver: Connection) -> list[tuple[int, Scan]]:
    header = receiver.recv()
    if isinstance(header, BaseException):
        raise header
    received = []
    for _ in range(header):
        index, scan = receiver.recv()
        for name, (typecode, length) in zip(_ARRAYS, receiver.recv(), strict=True):
            target = array(typecode, [0]) * length
            if length:
                receiver.recv_bytes_into(target)
            setattr(scan, name, target)
        received.append((index, scan))
    return received

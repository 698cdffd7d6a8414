"""Validate one JSONL dataset: one streaming pass (on big files, byte ranges shared out to a
few processes), then the file-level checks: example count, missing system messages, the
prompt/completion advice, duplicates across parts, and tokens against the base model's
per-example limit.

Per example only a 64-bit hash, a line number and a token count are kept (16 bytes); finding
repeats after a parallel pass briefly counts the hashes in a dict without tokens, or in a
table of 4-byte slots with them, where the tokenizer leaves little memory to spare.
"""

from __future__ import annotations

import hashlib
import os
import threading
from array import array
from collections import Counter
from dataclasses import dataclass, field

import orjson

from reconciler.datasets import models, parallel
from reconciler.datasets.codes import DEFAULT_LEVELS, Levels
from reconciler.datasets.issues import DEFAULT_CAP, IssueSink
from reconciler.datasets.reading import iter_chunks
from reconciler.datasets.scan import CHAT, PC, Scan, duplicate, first_format
from reconciler.diagnostics import Diagnostics

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """method/model: as in the manifest (None = infer). tokens: count when the model is known.
    jobs: worker processes (None = automatic: all cores for big files). sha256: also hash.
    encoding: the tokenizer when no model names one. levels: the severity of each code."""

    method: str | None = None
    model: str | None = None
    tokens: bool = True
    jobs: int | None = None
    cap: int = DEFAULT_CAP
    sha256: bool = False
    validation: bool = False  # a validation file: the example-count rules do not apply
    encoding: str | None = None
    levels: Levels = DEFAULT_LEVELS


@dataclass(slots=True, kw_only=True)
class Report:
    """Everything one validation learned about a file."""

    file: str
    bytes: int = 0
    lines: int = 0
    examples: int = 0
    format: str | None = None
    encoding: str | None = None
    limit: int | None = None
    token_counts: array[int] | None = None  # per example, in file order
    billable: int | None = None
    sha256: str | None = None
    diagnostics: Diagnostics = ()
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def validate_file(path: str, display: str, options: Options = Options()) -> Report:
    """Validate `path`; diagnostics name it `display` (the repo-relative path)."""
    size = os.path.getsize(path)
    encoding = (models.encoding_for(options.model) or options.encoding) if options.tokens else None
    report = Report(file=display, bytes=size, encoding=encoding,
                    limit=models.example_limit(options.model))
    workers = parallel.worker_count(size, options.jobs)
    ranges = (parallel.split_ranges(path, parallel.range_count(size, workers)) if workers > 1
              else [])
    if len(ranges) > 1:
        scan = _parallel(path, display, options, encoding, ranges, workers, report)
    else:
        sha = hashlib.sha256() if options.sha256 else None
        scan = Scan(display, method=options.method, model=options.model, encoding=encoding,
                    cap=options.cap, levels=options.levels)
        scan.run(path, on_block=sha.update if sha else None)
        report.sha256 = sha.hexdigest() if sha else None
    _finish(scan, report, options.model, counted=not options.validation)
    if size == 0:
        scan.sink.add("empty_file", 0, "file is empty", "Fine-tuning needs 10+ examples.")
    report.diagnostics, report.codes = scan.sink.diagnostics(), dict(scan.sink.counts)
    return report


def _parallel(
    path: str, display: str, options: Options, encoding: str | None,
    ranges: list[tuple[int, int]], workers: int, report: Report,
) -> Scan:
    fixed = _peek_format(path, options.method)
    jobs: list[parallel.ScanArgs] = [
        (path, a, b, display, options.method, options.model, encoding, options.cap, fixed, i == 0,
         options.levels)
        for i, (a, b) in enumerate(ranges)
    ]
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(_sha256(path)), daemon=True)
    if options.sha256:
        hasher.start()  # hashlib releases the GIL: the parent hashes while workers scan
    parts = parallel.run_parts(jobs, workers)
    if options.sha256:
        hasher.join()
        report.sha256 = digest[0]
    return _join(parts)


def _join(parts: list[Scan]) -> Scan:
    base = parts[0]
    if base.stopped:
        return base
    offsets = [0]
    for part in parts[1:]:
        offset = offsets[-1] + parts[len(offsets) - 1].lines
        offsets.append(offset)
        base.sink.absorb(part.sink, offset)
        base.completion.merge(part.completion, offset)
        base.example_lines.extend(map(offset.__add__, part.example_lines))  # no list: memory
        base.examples += part.examples
        base.counts.extend(part.counts)
        base.hashes.extend(part.hashes)
        # Joined: free them before the next part.
        part.example_lines, part.counts, part.hashes = array("I"), array("I"), array("q")
    base.lines = offsets[-1] + parts[-1].lines
    # With tokens memory is tight: the compact table. Without, a C-level count is faster.
    repeats = _duplicates_compact if base.encoding is not None else _duplicates_counted
    for lineno, first in sorted(repeats(base.hashes, base.example_lines)):
        duplicate(base.sink, lineno, first)
    return base


def _duplicates_counted(hashes: array[int], lines: array[int]) -> list[tuple[int, int]]:
    """(line, first line) of every repeated example, from every example's hash and line in file
    order. The hashes are counted in C (a dict of about 70 bytes a row while it lives); only
    the repeated ones are then walked for their lines."""
    repeated = {digest for digest, n in Counter(hashes).items() if n > 1}
    if not repeated:
        return []
    firsts: dict[int, int] = {}
    found: list[tuple[int, int]] = []
    for digest, line in zip(hashes, lines, strict=True):
        if digest in repeated and (first := firsts.setdefault(digest, line)) != line:
            found.append((line, first))
    return found


def _duplicates_compact(hashes: array[int], lines: array[int]) -> list[tuple[int, int]]:
    """(line, first line) of every repeated example, from every example's hash and line in file
    order. The table holds example indexes (4 bytes a slot; the hashes are looked up in
    `hashes`), not a dict of Python ints (about 100 bytes a row): what runs with tokens use."""
    size = 1 << max(16, (2 * len(hashes)).bit_length())  # at most half full: short probes
    mask = size - 1
    slots = array("I", [0]) * size  # index + 1 of the first example with a hash; 0 = empty
    found: list[tuple[int, int]] = []
    for index, digest in enumerate(hashes):
        slot = digest & mask
        while True:
            first = slots[slot]
            if not first:
                slots[slot] = index + 1
                break
            if hashes[first - 1] == digest:
                found.append((lines[index], lines[first - 1]))
                break
            slot = (slot + 1) & mask
    return found


def _peek_format(path: str, method: str | None) -> str | None:
    for lines in iter_chunks(path):
        for line in lines:
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return first_format(obj, method)
    return None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def _finish(scan: Scan, report: Report, model: str | None, *, counted: bool = True) -> None:
    sink, n = scan.sink, scan.examples
    report.lines, report.examples, report.format = scan.lines, n, scan.format
    if scan.format == PC:
        scan.completion.finish(sink)
    no_system = sink.tallies.get("missing_system_message")
    if no_system and scan.format == CHAT:
        sink.add("missing_system_message", no_system[1],
                 f"{no_system[0]} example(s) have no system message")
    if counted:
        _count_rules(n, report, sink)
    if report.encoding is not None:
        _token_limits(report, scan, sink, model)


def _count_rules(n: int, report: Report, sink: IssueSink) -> None:
    if 0 < n < MIN_EXAMPLES:
        sink.add("too_few_examples", 0, f"{n} examples; fine-tuning needs at least 10")
    elif n == 0 and report.bytes > 0 and not sink.errors:  # e.g. only blank lines
        sink.add("too_few_examples", 1, "no example in the file; fine-tuning needs at least 10")
    elif MIN_EXAMPLES <= n < RECOMMENDED_EXAMPLES:
        sink.add("few_examples", 0,
                 f"{n} examples; {RECOMMENDED_EXAMPLES} to 100 well-crafted ones are recommended")


def _token_limits(report: Report, scan: Scan, sink: IssueSink, model: str | None) -> None:
    counts = report.token_counts = scan.counts
    limit = report.limit
    if limit is None:
        what = f"of {model} is not known" if model else "is not checked without a base model"
        sink.add("unknown_token_limit", 0,
                 f"the per-example token limit {what}; counts are not capped")
        report.billable = sum(counts)
        return
    billable = 0
    for lineno, n in zip(scan.example_lines, counts, strict=False):
        if n > limit:
            sink.add("example_too_long", lineno,
                     f"example has ~{n} tokens; {model} trains on at most {limit} per example",
                     "Longer examples are truncated from the end, which cuts off the answer.")
            n = limit
        billable += n
    report.billable = billable

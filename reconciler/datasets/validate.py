"""Validate one JSONL dataset in a single streaming pass: lines, format, structure, duplicates,
example count, and (optionally) tokens against the base model's per-example limit.

Memory is flat in the number of rows: lines are read in chunks and only a 64-bit hash per line
(for duplicates) and a 4-byte token count per example are kept. The per-line fast path is one
orjson parse plus a dictionary lookup; only lines that fail go to `reading.diagnose`.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from reconciler.datasets import models, parallel
from reconciler.datasets.chat import check_chat, check_reinforcement
from reconciler.datasets.completion import CompletionChecker
from reconciler.datasets.dpo import check_dpo
from reconciler.datasets.issues import DEFAULT_CAP, ERROR, INFO, WARNING, IssueSink
from reconciler.datasets.reading import (
    BOM,
    count_keys,
    diagnose,
    duplicate_key,
    iter_chunks,
    raw_key_count,
)
from reconciler.datasets.tokens import count_example
from reconciler.diagnostics import Diagnostics

MIN_EXAMPLES = 10
RECOMMENDED_EXAMPLES = 50
CHAT, RFT, DPO, PC = "chat", "reinforcement", "dpo", "prompt_completion"
_METHOD_FORMAT = {"dpo": DPO, "reinforcement": RFT}

Checker = Callable[[dict[str, Any], int, IssueSink], bool]


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """method/model: as in the manifest (None = infer). tokens: count when the model is known.
    jobs: token-counting processes (None = automatic). sha256: hash the bytes while reading."""

    method: str | None = None
    model: str | None = None
    tokens: bool = True
    jobs: int | None = None
    cap: int = DEFAULT_CAP
    sha256: bool = False


@dataclass(slots=True, kw_only=True)
class Report:
    """Everything one validation pass learned about a file."""

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
    sink = IssueSink(display, cap=options.cap)
    size = os.path.getsize(path)
    report = Report(file=display, bytes=size)
    encoding = models.encoding_for(options.model) if options.tokens else None
    report.encoding, report.limit = encoding, models.example_limit(options.model)
    job = None
    if encoding and parallel.worker_count(size, options.jobs) > 1:
        job = parallel.TokenJob(path, encoding, parallel.worker_count(size, options.jobs))
    try:
        scan = _Scan(sink, options, encoding if job is None else None)
        scan.run(path)
        counts = job.result() if job is not None else None
    except BaseException:
        if job is not None:
            job.cancel()
        raise
    scan.finish(report, counts)
    if size == 0:
        sink.add(ERROR, "empty_file", 0, "file is empty", "A training file needs 10+ examples.")
    report.diagnostics, report.codes = sink.diagnostics(), dict(sink.counts)
    return report


class _Scan:
    """The streaming pass. State is a handful of counters and two compact arrays."""

    def __init__(self, sink: IssueSink, options: Options, encoding: str | None) -> None:
        self.sink, self.options, self.encoding = sink, options, encoding
        self.format: str | None = None
        self.checker: Checker | None = None
        self.completion = CompletionChecker()
        self.example_lines: array[int] = array("I")
        self.counts: array[int] = array("I")
        self.no_system = 0
        self.first_no_system = 0
        self.lines = 0
        self.sha = hashlib.sha256() if options.sha256 else None
        self.stopped = False

    def run(self, path: str) -> None:
        sink, seen, example_lines = self.sink, dict[int, int](), self.example_lines
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        counts, enc = self.counts, self.encoding
        lineno, offset = 0, 0
        for lines in self._chunks(path):
            for line in lines:
                lineno += 1
                stripped = line.strip()
                if not stripped:
                    if not self.stopped:
                        sink.add(ERROR, "blank_line", lineno, "blank line", "Remove empty lines.")
                    offset += len(line) + 1
                    continue
                try:
                    obj = loads(line)
                except decode_error:
                    obj = self._slow(line, lineno, offset)
                offset += len(line) + 1
                if obj is None or self.stopped:
                    continue
                if type(obj) is not dict:
                    self._not_object(obj, lineno)
                    continue
                first = seen.setdefault(hash(stripped), lineno)
                if first != lineno:
                    sink.add(
                        WARNING, "duplicate_example", lineno,
                        f"exact duplicate of line {first}", "Remove repeated examples.",
                    )
                if raw_key_count(line) != count_keys(obj):
                    self._duplicate_keys(line, lineno)
                example_lines.append(lineno)
                if enc is not None:
                    counts.append(count_example(obj, enc))
                checker = self.checker or self._choose(obj, lineno)
                if self._family(obj) != self.format:
                    self._mixed(obj, lineno)
                elif checker(obj, lineno, sink):
                    self.no_system += 1
                    self.first_no_system = self.first_no_system or lineno
        self.lines = lineno

    def _chunks(self, path: str) -> Iterator[list[bytes]]:
        return iter_chunks(path, on_block=self.sha.update if self.sha is not None else None)

    def _slow(self, line: bytes, lineno: int, offset: int) -> object:
        problem, _ = diagnose(line, offset)
        if problem.code == "bom":
            self.sink.add(ERROR, "bom", lineno, problem.summary, problem.detail, 1)
            try:
                return orjson.loads(line[len(BOM):])
            except orjson.JSONDecodeError:
                problem, _ = diagnose(line[len(BOM):], offset + len(BOM))
        if lineno == 1 and _looks_like_whole_json(line):
            self.sink.add(
                ERROR, "whole_file_json", 1,
                "file looks like one (pretty-printed) JSON document, not JSONL",
                "Write one example per line, or run `ftctl data convert FILE -o OUT.jsonl`.",
            )
            self.stopped = True
            return None
        self.sink.add(ERROR, problem.code, lineno, problem.summary, problem.detail, problem.column)
        return None

    def _not_object(self, obj: object, lineno: int) -> None:
        kind = {list: "array", str: "string", bool: "boolean"}.get(type(obj), type(obj).__name__)
        detail = "Each line must be a JSON object (one example)."
        if isinstance(obj, list) and lineno == 1:
            detail += " For a JSON array of examples run `ftctl data convert FILE -o OUT.jsonl`."
        self.sink.add(ERROR, "not_object", lineno, f"line is a JSON {kind}, not an object", detail)

    def _duplicate_keys(self, line: bytes, lineno: int) -> None:
        key = duplicate_key(line)
        if key is not None:
            self.sink.add(
                ERROR, "duplicate_key", lineno, f"key {key!r} appears twice in one object",
                "JSON readers keep only one of them; remove the other.",
            )

    def _family(self, obj: dict[str, Any]) -> str | None:
        family = _family_of(obj)
        return self.format if family == CHAT and self.format == RFT else family

    def _choose(self, obj: dict[str, Any], lineno: int) -> Checker:
        """The first example fixes the file's format; the method and model must agree."""
        family = _family_of(obj)
        method, model = self.options.method, self.options.model
        if family == CHAT and (
            method == "reinforcement" or (method is None and _ends_on_prompt(obj))
        ):
            family = RFT
        self.format = family
        expected = _expected(method, model)
        if family is not None and expected and family not in expected:
            self.sink.add(
                ERROR, "format_mismatch", lineno,
                f"examples are {family.replace('_', '/')} but "
                f"{_why(method, model)} needs {' or '.join(e.replace('_', '/') for e in expected)}",
            )
        self.checker = {CHAT: check_chat, RFT: check_reinforcement, DPO: check_dpo,
                        PC: self.completion.check}.get(family or "", _unknown)
        return self.checker

    def _mixed(self, obj: dict[str, Any], lineno: int) -> None:
        family = _family_of(obj)
        if family is None:
            _unknown(obj, lineno, self.sink)
            return
        self.sink.add(
            ERROR, "mixed_formats", lineno,
            f"a {family.replace('_', '/')} example in a {str(self.format).replace('_', '/')} file",
            "All examples of one file must use the same format.",
        )

    def finish(self, report: Report, joined: array[int] | None) -> None:
        sink, n = self.sink, len(self.example_lines)
        report.lines, report.examples, report.format = self.lines, n, self.format
        if self.format == PC:
            self.completion.finish(sink)
        if self.no_system and self.format == CHAT:
            sink.add(
                INFO, "missing_system_message", self.first_no_system,
                f"{self.no_system} example(s) have no system message",
            )
        if 0 < n < MIN_EXAMPLES or (n == 0 and report.bytes > 0 and not sink.errors):
            sink.add(ERROR, "too_few_examples", 0, f"{n} examples; fine-tuning needs at least 10")
        elif MIN_EXAMPLES <= n < RECOMMENDED_EXAMPLES:
            sink.add(
                INFO, "few_examples", 0,
                f"{n} examples; {RECOMMENDED_EXAMPLES} to 100 well-crafted ones are recommended",
            )
        if report.encoding is not None:
            counts = self.counts if joined is None else _pick(joined, self.example_lines)
            _token_limits(report, counts, self.example_lines, sink, self.options.model)
        if self.sha is not None:
            report.sha256 = self.sha.hexdigest()


def _pick(per_line: array[int], example_lines: array[int]) -> array[int]:
    out: array[int] = array("I")
    for lineno in example_lines:
        out.append(max(per_line[lineno - 1], 0) if lineno <= len(per_line) else 0)
    return out


def _token_limits(
    report: Report, counts: array[int], lines: array[int], sink: IssueSink, model: str | None
) -> None:
    report.token_counts = counts
    limit = report.limit
    if limit is None:
        sink.add(
            INFO, "unknown_token_limit", 0,
            f"the per-example token limit of {model} is not known; token counts are not capped",
        )
        report.billable = sum(counts)
        return
    billable = 0
    for lineno, n in zip(lines, counts, strict=False):
        if n > limit:
            sink.add(
                ERROR, "example_too_long", lineno,
                f"example has ~{n} tokens; {model} trains on at most {limit} per example",
                "Longer examples are truncated from the end, which cuts off the answer.",
            )
            n = limit
        billable += n
    report.billable = billable


def _family_of(obj: dict[str, Any]) -> str | None:
    if "messages" in obj:
        return CHAT
    if obj.keys() & {"input", "preferred_output", "non_preferred_output",
                     "preferred_completion", "non_preferred_completion"}:
        return DPO
    if "prompt" in obj or "completion" in obj or any(
        k.lower() in ("prompt", "completion") for k in obj
    ):
        return PC
    return None


def _ends_on_prompt(obj: dict[str, Any]) -> bool:
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict):
        return False
    return messages[-1].get("role") in ("user", "developer")


def _expected(method: str | None, model: str | None) -> tuple[str, ...]:
    if method in _METHOD_FORMAT:
        return (_METHOD_FORMAT[method],)
    wants_pc = models.wants_completion_format(model)
    if method == "supervised":
        return (PC,) if wants_pc else (CHAT,) if wants_pc is False else (CHAT, PC)
    if wants_pc is True:
        return (PC,)
    return (CHAT, RFT, DPO) if wants_pc is False else ()


def _why(method: str | None, model: str | None) -> str:
    parts = [f"method {method}" if method else "", f"model {model}" if model else ""]
    return " with ".join(p for p in parts if p)


def _unknown(obj: dict[str, Any], lineno: int, sink: IssueSink) -> bool:
    sink.add(
        ERROR, "unknown_format", lineno,
        "not a chat, preference (DPO) or prompt/completion example",
        'Expected {"messages": [...]}, {"input": ..., "preferred_output": ...} '
        'or {"prompt": ..., "completion": ...}.',
    )
    return False


def _looks_like_whole_json(line: bytes) -> bool:
    head = line.strip().lstrip(BOM).replace(b" ", b"")
    return head in (b"[", b"{") or head.startswith((b"[{", b"[\"", b"[["))

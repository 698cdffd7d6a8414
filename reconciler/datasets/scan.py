"""The streaming pass over (a byte range of) a JSONL file: lines, JSON, format and structure.

One `Scan` reads its range in chunks; the per-line fast path is one orjson parse, a format
check and the per-format checker. Only lines that fail go to `reading.diagnose`. State is a few
counters plus compact arrays: example line numbers, token counts, and 64-bit line hashes (for
duplicates; kept in a table when scanning alone, returned as an array when one of several
workers). Line numbers are relative to the start of the range.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import orjson

from reconciler.datasets import models
from reconciler.datasets.chat import check_chat, check_reinforcement
from reconciler.datasets.codes import DEFAULT_LEVELS, Levels
from reconciler.datasets.completion import CompletionChecker
from reconciler.datasets.dpo import check_dpo
from reconciler.datasets.firsts import Firsts
from reconciler.datasets.issues import DEFAULT_CAP, IssueSink
from reconciler.datasets.reading import (
    BOM,
    count_keys,
    diagnose,
    duplicate_key,
    iter_chunks_at,
)
from reconciler.datasets.tokens import count_example

CHAT, RFT, DPO, PC = "chat", "reinforcement", "dpo", "prompt_completion"
_METHOD_FORMAT = {"dpo": DPO, "reinforcement": RFT}
_DPO_KEYS = frozenset(
    ("input", "preferred_output", "non_preferred_output",
     "preferred_completion", "non_preferred_completion")
)

Checker = Callable[[dict[str, Any], int, IssueSink], int]


class Scan:
    """Scans one range. `format` may be fixed in advance (a later range of a parallel run)."""

    def __init__(
        self,
        display: str,
        *,
        method: str | None,
        model: str | None,
        encoding: str | None,
        cap: int = DEFAULT_CAP,
        fixed_format: str | None = None,
        dedupe: bool = True,
        levels: Levels = DEFAULT_LEVELS,
    ) -> None:
        self.sink = IssueSink(display, cap=cap, levels=levels)
        self.method, self.model, self.encoding = method, model, encoding
        self.completion = CompletionChecker()
        self.example_lines: array[int] = array("I")
        self.counts: array[int] = array("I")
        # Worker mode (dedupe=False): a worker keeps every example's hash (hashes, in
        # example_lines order) and the parent finds the repeats of the whole file at once.
        self.dedupe = dedupe
        self.hashes: array[int] = array("q")
        self.lines = 0
        self.examples = 0
        self.stopped = False
        self.format: str | None = None
        self.chatlike = False
        self.checker: Checker | None = None
        if fixed_format is not None:
            self._fix(fixed_format)

    def run(
        self, path: str, start: int = 0, end: int | None = None,
        on_block: Callable[[bytes], object] | None = None,
    ) -> Scan:
        sink = self.sink
        example_lines = self.example_lines
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        counts, enc, dedupe = self.counts, self.encoding, self.dedupe
        # Alone, repeats are found as the scan goes; with tokens in a compact table, as memory
        # matters more then than the few percent it costs.
        seen: dict[int, int] | Firsts = Firsts() if enc is not None and dedupe else {}
        keep_lines = enc is not None or not dedupe  # to join token counts, or parts' hashes
        add_hash = self.hashes.append
        checker, chatlike = self.checker, self.chatlike
        is_pc = self.format == PC
        lineno, examples = 0, 0
        for at, lines in iter_chunks_at(path, start=start, end=end, on_block=on_block):
            first_in_chunk, ends = lineno + 1, None
            for line in lines:
                lineno += 1
                try:
                    obj = loads(line)
                except decode_error:
                    # Blank lines land here too: orjson rejects empty input. Byte offsets are
                    # worked out only for a chunk that has a bad line, once (C-level sums).
                    if ends is None:
                        ends = [0, *accumulate(len(x) + 1 for x in lines)]
                    offset = at + ends[lineno - first_in_chunk]
                    obj = None if self.stopped else self._slow(line, lineno, offset)
                if obj is None or self.stopped:
                    continue
                if type(obj) is not dict:
                    self._not_object(obj, lineno)
                    continue
                examples += 1
                digest = hash(line)
                if not dedupe:
                    add_hash(digest)
                elif (first := seen.setdefault(digest, lineno)) != lineno:
                    duplicate(sink, lineno, first)
                if keep_lines:
                    example_lines.append(lineno)
                if enc is not None:
                    counts.append(count_example(obj, enc))
                if checker is None:
                    checker, chatlike = self._choose(obj, lineno), self.chatlike
                    is_pc = self.format == PC
                if chatlike:
                    same = "messages" in obj
                elif is_pc:
                    same = ("prompt" in obj or "completion" in obj) and "messages" not in obj
                else:
                    same = family_of(obj) == self.format
                if same:
                    keys = checker(obj, lineno, sink)
                    if keys < 0:
                        keys = count_keys(obj)
                else:
                    self._mixed(obj, lineno)
                    keys = count_keys(obj)
                # Keys as written vs keys parsed: a difference means a duplicate key (or an
                # odd spacing, which the slow check then clears).
                written = line.count(b'":')
                if written != keys and (
                    b"\\" not in line or written - line.count(b'\\":') != keys
                ):
                    self._duplicate_keys(line, lineno)
        self.examples = examples
        self.lines = lineno
        self.completion.flush(sink)
        return self

    def _slow(self, line: bytes, lineno: int, offset: int) -> object:
        if not line.strip():
            self.sink.add("blank_line", lineno, "blank line", "Remove empty lines.")
            return None
        problem, _ = diagnose(line, offset)
        if problem.code == "bom":
            self.sink.add("bom", lineno, problem.summary, problem.detail, 1)
            try:
                return orjson.loads(line[len(BOM):])
            except orjson.JSONDecodeError:
                problem, _ = diagnose(line[len(BOM):], offset + len(BOM))
        if lineno == 1 and offset == 0 and looks_like_whole_json(line):
            self.sink.add("whole_file_json", 1,
                "file looks like one (pretty-printed) JSON document, not JSONL",
                "Write one example per line, or run `ftctl data convert FILE -o OUT.jsonl`.",
            )
            self.stopped = True
            return None
        self.sink.add(problem.code, lineno, problem.summary, problem.detail, problem.column)
        return None

    def _not_object(self, obj: object, lineno: int) -> None:
        kind = {list: "array", str: "string", bool: "boolean"}.get(type(obj), type(obj).__name__)
        detail = "Each line must be a JSON object (one example)."
        if isinstance(obj, list):
            detail += " For a JSON array of examples run `ftctl data convert FILE -o OUT.jsonl`."
        self.sink.add("not_object", lineno, f"line is a JSON {kind}, not an object", detail)

    def _duplicate_keys(self, line: bytes, lineno: int) -> None:
        key = duplicate_key(line)
        if key is not None:
            self.sink.add("duplicate_key", lineno, f"key {key!r} appears twice in one object",
                          "JSON readers keep only one of them; remove the other.")

    def _choose(self, obj: dict[str, Any], lineno: int) -> Checker:
        """The first example fixes the file's format; the method and model must agree."""
        family = first_format(obj, self.method)
        self._fix(family)
        expected = _expected(self.method, self.model)
        if family is not None and expected and family not in expected:
            want = " or ".join(e.replace("_", "/") for e in expected)
            self.sink.add("format_mismatch", lineno,
                          f"examples are {family.replace('_', '/')} but "
                          f"{_why(self.method, self.model)} needs {want}")
        assert self.checker is not None
        return self.checker

    def _fix(self, family: str | None) -> None:
        self.format = family
        self.chatlike = family in (CHAT, RFT)
        self.checker = {CHAT: check_chat, RFT: check_reinforcement, DPO: check_dpo,
                        PC: self.completion.check}.get(family or "", unknown_format)

    def _mixed(self, obj: dict[str, Any], lineno: int) -> None:
        family = family_of(obj)
        if family is None:
            unknown_format(obj, lineno, self.sink)
            return
        self.sink.add("mixed_formats", lineno,
            f"a {family.replace('_', '/')} example in a {str(self.format).replace('_', '/')} file",
            "All examples of one file must use the same format.",
        )


def duplicate(sink: IssueSink, lineno: int, first: int) -> None:
    sink.add("duplicate_example", lineno, f"exact duplicate of line {first}",
             "Remove repeated examples.")


def family_of(obj: dict[str, Any]) -> str | None:
    if "messages" in obj:
        return CHAT
    if not _DPO_KEYS.isdisjoint(obj):
        return DPO
    if "prompt" in obj or "completion" in obj or any(
        k.lower() in ("prompt", "completion") for k in obj
    ):
        return PC
    return None


def first_format(obj: dict[str, Any], method: str | None) -> str | None:
    """The file's format as its first example shows it (chat ending on a prompt = RFT)."""
    family = family_of(obj)
    if family == CHAT and (method == "reinforcement" or (method is None and _ends_on_prompt(obj))):
        return RFT
    return family


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


def unknown_format(obj: dict[str, Any], lineno: int, sink: IssueSink) -> int:
    sink.add("unknown_format", lineno,
             "not a chat, preference (DPO) or prompt/completion example",
             'Expected {"messages": [...]}, {"input": ..., "preferred_output": ...} '
             'or {"prompt": ..., "completion": ...}.')
    return -1


def looks_like_whole_json(line: bytes) -> bool:
    head = line.strip().lstrip(BOM).replace(b" ", b"")
    return head in (b"[", b"{") or head.startswith((b"[{", b"[\"", b"[["))

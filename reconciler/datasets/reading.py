"""Reading JSONL as bytes: chunked line splitting and the diagnosis of lines that do not parse.

The fast path (in `validate`) hands each line to orjson. Only a line orjson rejects comes here,
to be explained precisely: BOM, invalid UTF-8 with its byte offset, NaN/Infinity, lone
surrogates, several values on one line, or plain invalid JSON with its column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

CHUNK_BYTES = 1024 * 1024  # a block, its lines and the next block: a few MB per process
BOM = b"\xef\xbb\xbf"


def iter_chunks(
    path: str,
    *,
    start: int = 0,
    end: int | None = None,
    on_block: Callable[[bytes], object] | None = None,
) -> Iterator[list[bytes]]:
    """Yield lists of physical lines (without b"\\n") of the byte range [start, end).

    Lines keep a trailing b"\\r" (CRLF files); the last line has no newline when the file does
    not end with one. Memory is bounded by the chunk size, never by the number of rows.
    on_block sees every raw block read (to hash the bytes in the same pass).
    """
    for _, lines in iter_chunks_at(path, start=start, end=end, on_block=on_block):
        yield lines


def iter_chunks_at(
    path: str,
    *,
    start: int = 0,
    end: int | None = None,
    on_block: Callable[[bytes], object] | None = None,
) -> Iterator[tuple[int, list[bytes]]]:
    """As iter_chunks, with the byte offset in the file of each list's first line."""
    with open(path, "rb") as f:
        f.seek(start)
        remaining = -1 if end is None else end - start
        carry, carry_at, pos = b"", start, start
        while remaining != 0:
            block = f.read(CHUNK_BYTES if remaining < 0 else min(CHUNK_BYTES, remaining))
            if not block:
                break
            if remaining > 0:
                remaining -= len(block)
            if on_block is not None:
                on_block(block)
            pos += len(block)
            lines = (carry + block).split(b"\n") if carry else block.split(b"\n")
            carry = lines.pop()
            yield carry_at, lines
            carry_at = pos - len(carry)
        if carry:
            yield carry_at, [carry]


@dataclass(frozen=True, slots=True)
class LineProblem:
    code: str
    summary: str
    detail: str = ""
    column: int = 0


_CONST = re.compile(rb"\b(NaN|-?Infinity)\b")


def diagnose(line: bytes, line_offset: int) -> tuple[LineProblem, object | None]:
    """Explain why orjson rejected `line`; also return the value when Python's json can read it.

    line_offset: the byte offset of the line in the file, for the invalid UTF-8 message.
    """
    if line.startswith(BOM):
        return LineProblem(
            "bom",
            "line starts with a UTF-8 byte order mark (BOM)",
            "Save the file as UTF-8 without BOM (the API rejects it).",
            1,
        ), None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LineProblem(
            "invalid_utf8",
            f"invalid UTF-8 at byte offset {line_offset + exc.start} "
            f"(byte 0x{line[exc.start]:02x}, column {exc.start + 1})",
            "Training files must be UTF-8. Re-encode the file (for example from cp1252).",
            exc.start + 1,
        ), None
    return _diagnose_text(text)


def _diagnose_text(text: str) -> tuple[LineProblem, object | None]:
    constants: list[str] = []

    def on_constant(name: str) -> float:
        constants.append(name)
        return 0.0

    decoder = json.JSONDecoder(parse_constant=on_constant)
    stripped = text.strip()
    try:
        value, end = decoder.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        return _invalid_json(exc, text), None
    except RecursionError:  # a hostile line nested thousands deep: a problem, not a crash
        return _too_deep(), None
    if stripped[end:].strip():
        column = len(text) - len(text.lstrip()) + end + 1
        return LineProblem(
            "multiple_values",
            "several JSON values on one line",
            "Each line must hold exactly one JSON object; put each example on its own line.",
            column,
        ), None
    if constants:
        return LineProblem(
            "nan_or_infinity",
            f"`{constants[0]}` is not valid JSON",
            "JSON has no NaN or Infinity; write null, a number or a string instead.",
        ), value
    if _has_lone_surrogate(value):
        return LineProblem(
            "lone_surrogate",
            "string holds a lone UTF-16 surrogate escape (such as \\ud83d)",
            "Escape the whole surrogate pair, or write the character itself.",
        ), None
    return LineProblem("invalid_json", "line is not valid JSON"), None


def _too_deep() -> LineProblem:
    return LineProblem(
        "invalid_json",
        "invalid JSON: nested too deeply",
        "An example is an object of messages; no real example nests this deep.",
    )


def _invalid_json(exc: json.JSONDecodeError, text: str) -> LineProblem:
    column = len(text) - len(text.lstrip()) + exc.colno
    return LineProblem(
        "invalid_json",
        f"invalid JSON: {exc.msg} (column {column})",
        "Each line must be one complete JSON object.",
        column,
    )


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def duplicate_key(line: bytes) -> str | None:
    """The first key that appears twice in one JSON object of `line`, if any (slow path)."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and not found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    try:
        json.loads(line, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return None
    return found[0] if found else None


def count_keys(value: object) -> int:
    """Number of object keys in a parsed JSON value, all levels (duplicate-key detection)."""
    try:
        return _count_keys(value)
    except RecursionError:
        # orjson accepts 1,024 levels, more than Python's recursion limit: walk it by hand.
        return _count_keys_deep(value)


def _count_keys(value: object) -> int:
    if type(value) is dict:
        n = len(value)
        for v in value.values():
            if type(v) is dict or type(v) is list:
                n += _count_keys(v)
        return n
    if type(value) is list:
        n = 0
        for v in value:
            if type(v) is dict or type(v) is list:
                n += _count_keys(v)
        return n
    return 0


def _count_keys_deep(value: object) -> int:
    n, stack = 0, [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            n += len(item)
            stack.extend(v for v in item.values() if type(v) is dict or type(v) is list)
        elif type(item) is list:
            stack.extend(v for v in item if type(v) is dict or type(v) is list)
    return n

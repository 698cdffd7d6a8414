"""`ftctl data convert`: CSV, TSV, XLSX, JSON (array), JSONL and plain text to fine-tuning JSONL.

Every cell stays the literal string it was ("NA", "null", "nan" and "007" included); nothing
is coerced, stringified or dropped silently. Input is strict UTF-8 (a BOM is stripped); a
cp1252 file gets an error naming the line. Headers match case-insensitively (with a warning),
extra columns are dropped (with a warning), a missing column is an error that names the
columns found and hints at the delimiter. Every row that cannot be converted is reported with
its row and line number. The legacy tool's separator / stop / leading-space suggestions are
opt-in fixes.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from reconciler.datasets.codes import CONVERT_LEVELS
from reconciler.datasets.completion import ENDING_FALLBACK, ENDINGS, SEPARATOR_FALLBACK, SEPARATORS
from reconciler.datasets.issues import IssueSink
from reconciler.diagnostics import Diagnostics

FORMATS = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".xlsx")
Row = tuple[int, int, dict[str, Any]]  # (row number, line number, record)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fixes:
    """Opt-in legacy fixes: append a separator to prompts, a stop marker to completions,
    and a leading space to completions. True = pick the first candidate no text contains."""

    separator: str | bool | None = None
    stop: str | bool | None = None
    leading_space: bool = False


@dataclass(slots=True)
class Result:
    rows: int = 0
    written: int = 0
    diagnostics: Diagnostics = ()
    applied: list[str] = field(default_factory=list)


def convert(source: str, display: str, output: str, *, to: str = "prompt-completion",
            fixes: Fixes = Fixes()) -> Result:
    """Convert `source` into JSONL at `output` (rows that fail are reported, not written)."""
    sink = IssueSink(display, cap=50, levels=CONVERT_LEVELS)
    ext = os.path.splitext(source)[1].lower()
    if ext not in FORMATS:
        what = ext or "a file without extension"
        sink.add("unsupported_format", 0, f"cannot convert {what}",
                 "Supported: " + ", ".join(FORMATS))
        return Result(diagnostics=sink.diagnostics())
    rows = list(_read(source, ext, sink))
    records = [r for r in (_record(row, to, sink) for row in rows) if r is not None]
    result = Result(rows=len(rows))
    if to == "prompt-completion":
        result.applied = _apply_fixes(records, fixes)
    elif to == "chat":
        records = [_to_chat(r) for r in records]
    with open(output, "wb") as f:
        for record in records:
            f.write(orjson.dumps(record) + b"\n")
    result.written = len(records)
    result.diagnostics = sink.diagnostics()
    return result


def _read(source: str, ext: str, sink: IssueSink) -> Iterator[Row]:
    if ext == ".xlsx":
        yield from _xlsx_rows(source, sink)
        return
    text = _decode(source, sink)
    if text is None:
        return
    if ext in (".csv", ".tsv"):
        yield from _csv_rows(text, "\t" if ext == ".tsv" else None, sink)
    elif ext == ".txt":
        yield from _txt_rows(text, sink)
    else:
        yield from _json_rows(text, sink)


def _txt_rows(text: str, sink: IssueSink) -> Iterator[Row]:
    """One completion per line (empty prompt); a final newline does not make an empty row."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    row = 0
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if line.strip():
            row += 1
            yield (row, n, {"prompt": "", "completion": line})
        else:
            sink.add("blank_row", n, f"blank line {n} skipped")


def _decode(source: str, sink: IssueSink) -> str | None:
    with open(source, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        sink.add("invalid_utf8", line,
                 f"invalid UTF-8 at byte offset {exc.start} (byte 0x{data[exc.start]:02x})",
                 "Save the file as UTF-8 (it looks like cp1252/Latin-1): for example "
                 "`iconv -f cp1252 -t utf-8 IN > OUT`.")
        return None


def _csv_rows(text: str, delimiter: str | None, sink: IssueSink) -> Iterator[Row]:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        sink.add("empty_file", 0, "no header row found")
        return
    columns = _columns(header, sink, delimiter)
    if columns is None:
        return
    row_no, start = 0, reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            sink.add("bad_row", start, f"row {row_no + 1}: {exc}",
                     "Check the quoting of this record (RFC 4180: double a quote inside quotes).")
            return
        row_no += 1
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            sink.add("bad_row", line,
                     f"row {row_no} has {len(cells)} fields, the header has {len(header)}")
            continue
        yield (row_no, line, {name: cells[i] for name, i in columns.items()})


def _columns(header: list[str], sink: IssueSink, delimiter: str) -> dict[str, int] | None:
    """prompt/completion column positions (case-insensitive); warnings for case and extras."""
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        if key in ("prompt", "completion") and key not in found:
            if name != key:
                sink.add("header_case", 1, f"column {name!r} read as {key!r}")
            found[key] = i
    extras = [h for i, h in enumerate(header) if i not in found.values()]
    missing = [k for k in ("prompt", "completion") if k not in found]
    if missing:
        hint = ""
        if len(header) == 1:
            hint = (f" Only one column was read with delimiter {delimiter!r}; "
                    "is the file separated by something else?")
        sink.add("missing_column", 1, f"no `{'` or `'.join(missing)}` column",
                 f"Columns found: {header!r}.{hint}")
        return None
    if extras:
        sink.add("extra_columns", 1, f"extra columns dropped: {extras!r}")
    return found


def _json_rows(text: str, sink: IssueSink) -> Iterator[Row]:
    try:
        value = orjson.loads(text)
        items = value if isinstance(value, list) else [value]
        for n, item in enumerate(items, 1):
            yield (n, 0, item)
        return
    except orjson.JSONDecodeError:
        pass
    row = 0
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        row += 1
        try:
            yield (row, n, orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            sink.add("invalid_json", n, f"row {row}: invalid JSON ({exc.msg})")


def _xlsx_rows(source: str, sink: IssueSink) -> Iterator[Row]:
    import openpyxl

    book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        if len(book.worksheets) > 1:
            first = book.worksheets[0].title
            sink.add("extra_sheets", 0,
                     f"{len(book.worksheets)} sheets; only the first ({first!r}) is read")
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell(c) for c in next(rows, ())]
        columns = _columns(header, sink, ",") if header else None
        if columns is None:
            if not header:
                sink.add("empty_file", 0, "the first sheet is empty")
            return
        for n, cells in enumerate(rows, 1):
            values = [_cell(c) for c in cells]
            if not any(v.strip() for v in values):
                continue
            yield (n, n + 1, {k: values[i] if i < len(values) else "" for k, i in columns.items()})
    finally:
        book.close()


def _cell(value: object) -> str:
    """A spreadsheet cell as text: numbers without a spurious ".0", empty cells as ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _record(row: Row, to: str, sink: IssueSink) -> dict[str, Any] | None:
    n, line, item = row
    where = f"row {n}"
    if not isinstance(item, dict):
        sink.add("not_object", line, f"{where} is not an object")
        return None
    if "messages" in item:
        return _from_chat(item, n, line, to, sink)
    lowered = {k.lower(): k for k in item if isinstance(k, str)}
    out: dict[str, Any] = {}
    for key in ("prompt", "completion"):
        value = item.get(lowered.get(key, key))
        if value is None:
            sink.add("missing_value", line, f"{where} has no `{key}`")
            return None
        if not isinstance(value, str):
            sink.add("non_string_value", line,
                     f"{where}: `{key}` is {type(value).__name__}, not text",
                     "Quote it in the source if it is meant as text; it is not converted silently.")
            return None
        out[key] = value
    if out["completion"] == "":
        sink.add("empty_completion", line, f"{where} has an empty completion")
        return None
    return out


def _from_chat(
    item: dict[str, Any], n: int, line: int, to: str, sink: IssueSink
) -> dict[str, Any] | None:
    if to == "chat":
        return item
    messages = item["messages"]
    roles = [m.get("role") for m in messages] if isinstance(messages, list) else []
    if roles not in (["user", "assistant"], ["system", "user", "assistant"]):
        sink.add("not_convertible", line,
                 f"row {n}: only user+assistant chats convert to prompt/completion")
        return None
    return {"prompt": messages[-2].get("content"), "completion": messages[-1].get("content")}


def _to_chat(record: dict[str, Any]) -> dict[str, Any]:
    if "messages" in record:
        return record
    return {"messages": [{"role": "user", "content": record["prompt"]},
                         {"role": "assistant", "content": record["completion"]}]}


def _apply_fixes(records: list[dict[str, Any]], fixes: Fixes) -> list[str]:
    applied: list[str] = []
    pcs = [r for r in records if "prompt" in r]
    if fixes.separator:
        sep = fixes.separator if isinstance(fixes.separator, str) else _pick(
            SEPARATORS, [r["prompt"] for r in pcs], SEPARATOR_FALLBACK)
        for r in pcs:
            r["prompt"] += sep
        applied.append(f"appended separator {sep!r} to every prompt")
    if fixes.stop:
        stop = fixes.stop if isinstance(fixes.stop, str) else _pick(
            ENDINGS, [r["completion"] for r in pcs], ENDING_FALLBACK)
        for r in pcs:
            r["completion"] += stop
        applied.append(f"appended stop sequence {stop!r} to every completion")
    if fixes.leading_space:
        for r in pcs:
            if r["completion"] and not r["completion"][0].isspace():
                r["completion"] = " " + r["completion"]
        applied.append("added a leading space to completions")
    return applied


def _pick(candidates: tuple[str, ...], texts: list[str], fallback: str) -> str:
    return next((c for c in candidates if not any(c in t for t in texts)), fallback)

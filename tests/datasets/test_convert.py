"""`data convert`: every format to JSONL, literal cells (no NA/nan coercion), every failing row
reported with its row and line, and round trips that validate."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import orjson
import pytest

from reconciler.datasets import Options, validate_file
from reconciler.datasets.convert import Fixes, convert


def _rows(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _codes(result: object) -> list[tuple[int, str]]:
    return [(d.subject.line, d.code) for d in result.diagnostics if d.subject]  # type: ignore[attr-defined]


def test_csv_quoting_literals_bom_and_header_case(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(
        b'\xef\xbb\xbfPrompt,Completion,notes\n'
        b'"Hello, world",NA,x\n'
        b'"multi\nline ""quoted""", null,y\n'
        b'007,1e3,z\n'
        b'N/A,nan,w\n'
    )
    out = tmp_path / "out.jsonl"
    result = convert(str(src), "in.csv", str(out))
    assert _rows(out) == [
        {"prompt": "Hello, world", "completion": "NA"},
        {"prompt": 'multi\nline "quoted"', "completion": " null"},
        {"prompt": "007", "completion": "1e3"},
        {"prompt": "N/A", "completion": "nan"},
    ]
    assert result.written == result.rows == 4
    codes = {c for _, c in _codes(result)}
    assert codes == {"header_case", "extra_columns"}
    assert not any(d.is_error for d in result.diagnostics)


def test_semicolon_and_tsv_detected(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text("prompt;completion\na;b\nc;d\n", encoding="utf-8")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("prompt\tcompletion\na, b\tc; d\n", encoding="utf-8")
    for src, first in ((semi, {"prompt": "a", "completion": "b"}),
                       (tsv, {"prompt": "a, b", "completion": "c; d"})):
        out = tmp_path / (src.name + ".jsonl")
        convert(str(src), src.name, str(out))
        assert _rows(out)[0] == first


def test_missing_column_names_found_columns_and_hints_delimiter(tmp_path: Path) -> None:
    src = tmp_path / "pipe.csv"
    src.write_text("question|answer\nq|a\n", encoding="utf-8")
    result = convert(str(src), "pipe.csv", str(tmp_path / "o.jsonl"))
    err = [d for d in result.diagnostics if d.code == "missing_column"]
    assert err and "question" in err[0].detail
    one_col = tmp_path / "one.csv"
    one_col.write_text("prompt completion\nq a\n", encoding="utf-8")
    result = convert(str(one_col), "one.csv", str(tmp_path / "o2.jsonl"))
    assert "Only one column" in [d for d in result.diagnostics if d.is_error][0].detail


def test_cp1252_is_an_error_with_its_line(tmp_path: Path) -> None:
    src = tmp_path / "win.csv"
    src.write_bytes(b"prompt,completion\nok,fine\ncaf\xe9,x\n")
    result = convert(str(src), "win.csv", str(tmp_path / "o.jsonl"))
    assert _codes(result) == [(3, "invalid_utf8")]
    assert "cp1252" in result.diagnostics[0].detail


def test_bad_rows_reported_by_row_and_line(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text('prompt,completion\na,b\n"two\nlines",c,extra\nd,\ne,f\n', encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = convert(str(src), "bad.csv", str(out))
    assert _codes(result) == [(3, "bad_row"), (5, "empty_completion")]
    assert "row 2" in result.diagnostics[0].summary
    assert _rows(out) == [{"prompt": "a", "completion": "b"}, {"prompt": "e", "completion": "f"}]


def test_txt_trailing_newline_makes_no_empty_row(tmp_path: Path) -> None:
    src = tmp_path / "lines.txt"
    src.write_text("first line\nsecond line\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    result = convert(str(src), "lines.txt", str(out))
    assert result.rows == 2 and not result.diagnostics
    assert _rows(out)[1] == {"prompt": "", "completion": "second line"}


def test_json_array_keeps_types_honest(tmp_path: Path) -> None:
    src = tmp_path / "arr.json"
    src.write_bytes(orjson.dumps([{"prompt": "a", "completion": "b"},
                                  {"prompt": "c", "completion": 3},
                                  {"prompt": "d"},
                                  {"PROMPT": "e", "Completion": "f"}]))
    out = tmp_path / "o.jsonl"
    result = convert(str(src), "arr.json", str(out))
    assert [c for _, c in _codes(result)] == ["non_string_value", "missing_value"]
    assert _rows(out) == [{"prompt": "a", "completion": "b"}, {"prompt": "e", "completion": "f"}]


def test_xlsx_first_sheet_and_cells(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["prompt", "completion"])
    sheet.append(["007", 7])
    sheet.append(["NA", 2.5])
    book.create_sheet("other").append(["ignored"])
    src = tmp_path / "in.xlsx"
    book.save(src)
    out = tmp_path / "o.jsonl"
    result = convert(str(src), "in.xlsx", str(out))
    assert _rows(out) == [{"prompt": "007", "completion": "7"},
                          {"prompt": "NA", "completion": "2.5"}]
    assert [d.code for d in result.diagnostics] == ["extra_sheets"]


def test_unsupported_extension(tmp_path: Path) -> None:
    src = tmp_path / "x.parquet"
    src.write_bytes(b"PAR1")
    result = convert(str(src), "x.parquet", str(tmp_path / "o.jsonl"))
    assert [d.code for d in result.diagnostics] == ["unsupported_format"]


@pytest.mark.parametrize("to", ["prompt-completion", "chat"])
def test_round_trip_validates(tmp_path: Path, to: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text("prompt,completion\n" + "".join(f"Question {i},Answer {i}\n" for i in range(15)),
                   encoding="utf-8")
    out = tmp_path / "o.jsonl"
    fixes = Fixes(separator=True, stop=True, leading_space=True) if to != "chat" else Fixes()
    result = convert(str(src), "in.csv", str(out), to=to, fixes=fixes)
    model = "babbage-002" if to != "chat" else "gpt-4o-mini-2024-07-18"
    report = validate_file(str(out), "o.jsonl", Options(model=model))
    assert report.examples == 15 and not report.has_errors
    assert [d for d in report.diagnostics if d.severity.value == "warning"] == []
    if to != "chat":
        assert len(result.applied) == 3
        assert _rows(out)[0] == {"prompt": "Question 0 ->", "completion": " Answer 0\n"}
    # And back: chat -> prompt/completion gives the same pairs.
    back = tmp_path / "back.jsonl"
    convert(str(out), "o.jsonl", str(back))
    assert len(_rows(back)) == 15

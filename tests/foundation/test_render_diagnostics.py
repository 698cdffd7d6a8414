"""render.diagnostics: the text form (header, excerpt, caret, detail) and the JSON list."""

from __future__ import annotations

import json

from reconciler.diagnostics import SourceRange, error, warning
from reconciler.render.diagnostics import format_json, format_text, header


def test_text_with_excerpt_caret_and_detail() -> None:
    d = error("seed: expected an integer", "Use a whole number.",
              subject=SourceRange(file="m.yaml", line=2, column=9))
    text = format_text([d], {"m.yaml": "a: 1\n  seed: abc\n"})
    assert text == (
        "m.yaml:2:9: error: seed: expected an integer\n"
        "     2 |   seed: abc\n"
        "       |         ^\n"
        "  Use a whole number.\n"
    )


def test_text_without_sources_or_position() -> None:
    diags = [
        warning("no manifests found", subject=SourceRange(file="ftctl.yaml")),
        error("something global"),
        error("line only", subject=SourceRange(file="d.jsonl", line=7)),
    ]
    assert format_text(diags) == (
        "ftctl.yaml: warning: no manifests found\n"
        "error: something global\n"
        "d.jsonl:7: error: line only\n"
    )


def test_long_lines_are_cut_in_excerpts() -> None:
    d = error("x", subject=SourceRange(file="f", line=1, column=1))
    text = format_text([d], {"f": "y" * 1000})
    assert max(len(line) for line in text.splitlines()) < 200


def test_header_is_the_grep_able_form() -> None:
    d = error("bad", subject=SourceRange(file="a.yaml", line=3, column=4))
    assert header(d) == "a.yaml:3:4: error: bad"


def test_json_is_a_list_of_objects() -> None:
    d = error("bad", "detail", subject=SourceRange(file="a.yaml", line=3, column=4), code="c")
    data = json.loads(format_json([d]))
    assert data == [{
        "severity": "error", "summary": "bad", "detail": "detail", "code": "c",
        "address": None, "file": "a.yaml", "line": 3, "column": 4,
    }]
    assert format_json([]) == "[]\n"

"""yaml_document: positions of keys and values, safe tags only, duplicate keys, alias budgets.

Every test runs with each YAML parser PyYAML has here (the `yaml_parser` fixture): libyaml's C
parser and the pure-Python one must give the same data, positions and diagnostics.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import yaml_document
from reconciler.yaml_document import MAX_NODES, parse

pytestmark = pytest.mark.usefixtures("yaml_parser")
REPO = Path(__file__).resolve().parents[2]


def test_positions_of_keys_and_values() -> None:
    text = "a: 1\nb:\n  c: [x, y]\n  d: {e: true}\n"
    [doc], diags = parse(text, "f.yaml")
    assert diags == ()
    assert doc.data == {"a": 1, "b": {"c": ["x", "y"], "d": {"e": True}}}
    assert str(doc.locate(("a",))) == "f.yaml:1:4"
    assert str(doc.locate(("a",), prefer_key=True)) == "f.yaml:1:1"
    assert str(doc.locate(("b", "c", 1))) == "f.yaml:3:10"
    assert str(doc.locate(("b", "d", "e"))) == "f.yaml:4:10"
    # A path that does not exist falls back to its nearest ancestor.
    assert str(doc.locate(("b", "d", "missing"))) == "f.yaml:4:6"


def test_multiple_documents_and_empty_ones() -> None:
    docs, diags = parse("a: 1\n---\n---\nb: 2\n", "f.yaml")
    assert diags == ()
    assert [d.data for d in docs] == [{"a": 1}, {"b": 2}]
    assert str(docs[1].start) == "f.yaml:4:1"


def test_documents_before_a_syntax_error_are_kept() -> None:
    docs, diags = parse("a: 1\n---\nb: [\n", "f.yaml")
    assert [d.data for d in docs] == [{"a": 1}]
    [diag] = diags
    assert diag.summary.startswith("YAML syntax error")
    assert diag.subject is not None and diag.subject.line == 4


def test_python_tags_are_refused_and_nothing_runs() -> None:
    text = (
        "a: !!python/object/apply:os.system ['touch /tmp/ftctl-pwned']\n"
        "b: !!python/name:os.sep\n"
    )
    [doc], diags = parse(text, "f.yaml")
    assert [str(d.subject) for d in diags] == ["f.yaml:1:4", "f.yaml:2:4"]
    assert all("is not allowed" in d.summary for d in diags)
    assert doc.data == {"a": ["touch /tmp/ftctl-pwned"], "b": ""}


def test_control_characters_are_reported_where_they_are() -> None:
    docs, diags = parse("a: 1\nb: x\x00y\n", "f.yaml")
    assert docs == ()
    assert [(str(d.subject), d.summary) for d in diags] == [
        ("f.yaml:2:5", "YAML error: character U+0000 is not allowed")
    ]


def test_custom_tags_are_refused() -> None:
    _, diags = parse("a: !Ref thing\n", "f.yaml")
    assert [d.summary for d in diags] == ["YAML tag '!Ref' is not allowed"]


def test_duplicate_keys_are_errors() -> None:
    _, diags = parse("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [(str(d.subject), d.summary) for d in diags] == [("f.yaml:3:1", "duplicate key 'a'")]


def test_merge_keys_explicit_keys_win() -> None:
    text = "base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n"
    [doc], diags = parse(text, "f.yaml")
    assert diags == ()
    assert doc.data == {"base": {"x": 1, "y": 2}, "m": {"x": 1, "y": 3}}
    assert str(doc.locate(("m", "x"))) == "f.yaml:1:14"  # where the merged value was written


def test_keys_are_text_even_when_yaml_reads_them_as_other_types() -> None:
    [doc], _ = parse("on: 1\n3: x\n", "f.yaml")
    assert doc.data == {"on": 1, "3": "x"}


def test_dates_stay_strings() -> None:
    [doc], diags = parse("d: 2024-07-18\ne: 2024-13-45\nf: !!binary aGk=\n", "f.yaml")
    assert diags == ()
    assert doc.data == {"d": "2024-07-18", "e": "2024-13-45", "f": "aGk="}


def test_explicit_tags_that_do_not_apply_are_reported() -> None:
    [doc], diags = parse("a: !!int x\nb: !!float y\n", "f.yaml")
    assert [(str(d.subject), d.summary.split(":")[0]) for d in diags] == [
        ("f.yaml:1:4", "invalid YAML value"), ("f.yaml:2:4", "invalid YAML value"),
    ]
    assert doc.data == {"a": "x", "b": "y"}


def _bomb(levels: int, fan: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * fan) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_without_exhausting_memory() -> None:
    text = _bomb(10)  # 9**10 (about 3.5 billion) strings if expanded
    tracemalloc.start()
    try:
        docs, diags = parse(text, "bomb.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert docs == ()
    assert [d.summary for d in diags] == [
        f"document expands to more than {MAX_NODES} nodes (too many aliases?)"
    ]
    assert peak < 200 * 1024 * 1024


def test_modest_alias_use_is_fine() -> None:
    docs, diags = parse(_bomb(3), "ok.yaml")
    assert diags == () and len(docs) == 1


def test_recursive_alias_is_refused() -> None:
    docs, diags = parse("a: &a [1, *a]\n", "r.yaml")
    assert docs == ()
    assert [d.summary for d in diags] == ["recursive YAML alias"]


def test_deep_nesting_is_refused() -> None:
    _, diags = parse("[" * 300 + "]" * 300 + "\n", "deep.yaml")
    assert [(str(d.subject), d.summary) for d in diags] == [
        ("deep.yaml:1:201", "document nests deeper than 200 levels")]


def test_very_deep_flow_nesting_stops_early() -> None:
    _, diags = parse("[" * 100_000 + "]" * 100_000 + "\n", "deep.yaml")
    [diag] = diags
    assert diag.summary == "document nests deeper than 200 levels"
    assert str(diag.subject) == "deep.yaml:1:201"


def test_nesting_just_under_the_cap_is_fine() -> None:
    [doc], diags = parse("[" * 200 + "]" * 200 + "\n", "deep.yaml")
    assert diags == ()
    _, diags = parse("[" * 201 + "]" * 201 + "\n", "deep.yaml")
    assert [str(d.subject) for d in diags] == ["deep.yaml:1:201"]


def test_very_deep_block_nesting_does_not_crash() -> None:
    text = "".join("  " * i + "k:\n" for i in range(600))
    docs, diags = parse(text, "deep.yaml")
    assert docs == ()
    assert [d.summary for d in diags] == ["document nests deeper than 200 levels"]


TOKENS = [*"ab:-[]{}&*!#'\" \n\t|>,?%@`0.", "!!int ", "!!float ", "!!bool ", "2024-13-45",
          "<<: ", ".inf", "0x", "&a ", "*a", "!!null ", "!!map ", "---\n", "%YAML 1.1\n", "\x00",
          "\ufeff", "\r"]


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_parse_never_raises(text: str) -> None:
    docs, diags = parse(text, "fuzz.yaml")
    for d in diags:
        assert d.subject is not None and d.subject.file == "fuzz.yaml"


def _yaml_files() -> list[Path]:
    """Every YAML file the tests and the project ship: fixtures, the bad-input corpus, the
    examples and the init templates."""
    roots = [REPO / "tests" / "fixtures", REPO / "tests" / "badinput" / "corpus",
             REPO / "examples", REPO / "reconciler" / "templates"]
    return sorted(p for r in roots for p in r.rglob("*") if p.suffix in (".yaml", ".yml"))


@pytest.mark.skipif(len(yaml_document.PARSERS) < 2, reason="PyYAML was built without libyaml")
def test_both_parsers_agree_on_every_yaml_file_we_have(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _yaml_files()
    assert len(files) > 100
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        results = []
        for parser in yaml_document.PARSERS:
            monkeypatch.setattr(yaml_document, "PARSER", parser)
            results.append(parse(text, path.name))
        assert results[0] == results[1], path


@pytest.mark.parametrize("text", ["0", "7", "42", "007", "010", "1_000", "+5", "-3", "0x1f",
                                  "0b101", "1:30", "99999999999999999999", "١٢", "12.0", "!!int 9",
                                  "!!int 012", "'7'"])
def test_numbers_read_as_yaml_1_1_reads_them(text: str) -> None:
    # Plain decimals take a shortcut past PyYAML's constructor; every other form must not.
    [doc], diags = parse(f"a: {text}\n", "f.yaml")
    assert diags == ()
    assert doc.data == yaml.safe_load(f"a: {text}\n")
    assert type(doc.data["a"]) is type(yaml.safe_load(f"a: {text}\n")["a"])  # type: ignore[index]

"""The table of dataset codes: every code a check emits is in it, docs/datasets.md is generated
from it, and the severities it gives (defaults, project overrides, --strict) are the ones used."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reconciler.datasets.codes import CHECKS, CONVERT, LEVELS, Levels, check_overrides
from reconciler.datasets.issues import IssueSink
from reconciler.diagnostics import Severity, SourceRange
from reconciler.spec import RuleOverride

REPO = Path(__file__).resolve().parents[2]
SOURCES = REPO / "reconciler" / "datasets"


def _generator() -> ModuleType:
    path = REPO / "scripts" / "gen_dataset_docs.py"
    spec = importlib.util.spec_from_file_location("gen_dataset_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _emitted(path: Path) -> set[str]:
    """Code literals a module passes to IssueSink.add or LineProblem (f"missing_{key}" expanded)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", "")
        if name not in ("add", "LineProblem"):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add(first.value)
        elif isinstance(first, ast.JoinedStr):
            head = "".join(v.value for v in first.values if isinstance(v, ast.Constant))
            found.update(f"{head}{key}" for key in ("prompt", "completion"))
    return found


def test_every_code_a_check_emits_has_a_rule() -> None:
    checks = set().union(*(_emitted(p) for p in SOURCES.glob("*.py") if p.name != "convert.py"))
    assert checks and checks <= set(CHECKS), checks - set(CHECKS)
    converts = _emitted(SOURCES / "convert.py")
    assert converts and converts <= set(CONVERT), converts - set(CONVERT)


def test_every_rule_says_why_and_where_from() -> None:
    for table in (CHECKS, CONVERT):
        for code, rule in table.items():
            assert rule.why and rule.source, code
            assert rule.default in (Severity.ERROR, Severity.WARNING, Severity.INFO)


@pytest.mark.parametrize("code", ["invalid_tool_arguments", "undeclared_function",
                                  "dpo_input_ends_with_assistant", "blank_line", "bom",
                                  "duplicate_key", "example_too_long", "unknown_tool_call_id"])
def test_what_the_provider_accepts_is_only_a_warning(code: str) -> None:
    assert CHECKS[code].default is Severity.WARNING


def test_the_datasets_page_is_generated_from_the_table() -> None:
    gen = _generator()
    page = (REPO / "docs" / "datasets.md").read_text(encoding="utf-8")
    assert page == gen.render(), "out of date: run python scripts/gen_dataset_docs.py"
    assert gen.main(["--check"]) == 0
    for code, rule in CHECKS.items():
        assert f"| `{code}` | {rule.default.value} |" in page


def test_levels_apply_overrides_then_strict() -> None:
    levels = Levels(overrides={"blank_line": "off", "undeclared_function": "error",
                               "duplicate_example": "info"})
    assert levels.of("blank_line") is None
    assert levels.of("undeclared_function") is Severity.ERROR
    assert levels.of("duplicate_example") is Severity.INFO
    strict = Levels(overrides={"blank_line": "off"}, strict=True)
    assert strict.of("bom") is Severity.ERROR  # a warning by default
    assert strict.of("few_examples") is Severity.INFO  # notes stay notes
    assert strict.of("blank_line") is None
    assert len({Levels().key, levels.key, strict.key}) == 3  # caches tell them apart


def test_an_off_code_is_neither_shown_nor_counted() -> None:
    sink = IssueSink("f.jsonl", levels=Levels(overrides={"blank_line": "off"}))
    sink.add("blank_line", 3, "blank line")
    sink.add("bom", 1, "bom")
    assert [d.code for d in sink.diagnostics()] == ["bom"]
    assert sink.counts == {"bom": 1} and sink.errors == 0


def test_unknown_rule_is_an_error_at_its_place_with_a_did_you_mean() -> None:
    where = SourceRange(file="ftctl.yaml", line=7, column=5)
    (diag,) = check_overrides([RuleOverride("blank_lines", "off", where),
                               RuleOverride("bom", "error", where)])
    assert diag.is_error and diag.subject == where
    assert diag.summary == "unknown dataset rule 'blank_lines' (did you mean 'blank_line'?)"
    assert LEVELS == ("error", "warning", "info", "off")

"""Golden files: every scenario in cases.py rendered as text, JSON and Markdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from reconciler.render import render
from reconciler.render.drift import render_drift

GOLDEN = Path(__file__).parent / "golden"
_FILES = {"text": "plan.txt", "json": "plan.json", "markdown": "plan.md"}


@pytest.mark.parametrize("fmt", sorted(_FILES))
def test_golden(
    case_name: str, fmt: str, cases: ModuleType, golden: Callable[[str, str], None]
) -> None:
    plan = cases.CASES[case_name]()
    golden(f"{case_name}/{_FILES[fmt]}", render(plan, fmt))


def test_every_golden_folder_is_a_case(cases: ModuleType) -> None:
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir()} - {"drift", "planfile"}
    assert folders == set(cases.CASES)


_DRIFT_FILES = {"text": "drift.txt", "json": "drift.json", "markdown": "drift.md"}


@pytest.mark.parametrize("fmt", sorted(_DRIFT_FILES))
@pytest.mark.parametrize("drift_case", ["drift_all_kinds", "no_drift"])
def test_drift_golden(
    drift_case: str, fmt: str, cases: ModuleType, golden: Callable[[str, str], None]
) -> None:
    report = cases.DRIFT_CASES[drift_case]()
    golden(f"drift/{drift_case}/{_DRIFT_FILES[fmt]}", render_drift(report, fmt))


def test_every_drift_golden_folder_is_a_case(cases: ModuleType) -> None:
    assert {p.name for p in (GOLDEN / "drift").iterdir()} == set(cases.DRIFT_CASES)

"""Golden files: every scenario in cases.py rendered as text, JSON and Markdown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from reconciler.render import render

GOLDEN = Path(__file__).parent / "golden"
_FILES = {"text": "plan.txt", "json": "plan.json", "markdown": "plan.md"}


@pytest.mark.parametrize("fmt", sorted(_FILES))
def test_golden(
    case_name: str, fmt: str, cases: ModuleType, golden: Callable[[str, str], None]
) -> None:
    plan = cases.CASES[case_name]()
    golden(f"{case_name}/{_FILES[fmt]}", render(plan, fmt))


def test_every_golden_folder_is_a_case(cases: ModuleType) -> None:
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir()}
    assert folders == set(cases.CASES)

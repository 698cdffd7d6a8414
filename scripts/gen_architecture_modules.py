#!/usr/bin/env python3
"""Refresh the module table in docs/architecture.md from the modules' own docstrings.

Every module starts with a docstring saying its one responsibility; the table between the
`<!-- modules:begin -->` and `<!-- modules:end -->` markers is their first lines, so the page
describes the layout that actually exists. The prose around it is written by hand.

    python scripts/gen_architecture_modules.py
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "architecture.md"
BEGIN, END = "<!-- modules:begin -->", "<!-- modules:end -->"


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    # The first sentence of the docstring, which may wrap over several lines.
    text = " ".join(doc.split("\n\n", 1)[0].split())
    return text.replace("|", "\\|")


def table() -> str:
    rows = ["| Module | Lines | Responsibility |", "| --- | --- | --- |"]
    for path in sorted((REPO / "reconciler").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        rows.append(f"| `{rel}` | {lines} | {_summary(path)} |")
    return "\n".join(rows)


def main() -> int:
    page = PAGE.read_text(encoding="utf-8")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    PAGE.write_text(f"{head}{BEGIN}\n{table()}\n{END}{tail}", encoding="utf-8")
    print(f"updated {PAGE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

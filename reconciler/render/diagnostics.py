"""Diagnostics as text (`FILE:LINE:COL: error: message`, a source excerpt, the detail) or JSON.

Pure: the loader hands over a {file: text} map for excerpts, so nothing here reads a disk.
The first line of each diagnostic is the stable, grep-able form CI tools match on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from reconciler.diagnostics import Diagnostic

_EXCERPT_WIDTH = 160  # keep a minified one-line YAML file from flooding the terminal


def format_text(diags: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> str:
    """One block per diagnostic: header line, excerpt with a caret (when known), detail."""
    blocks = [_block(d, sources or {}) for d in diags]
    return "".join(blocks)


def header(d: Diagnostic) -> str:
    """`FILE:LINE:COL: error: summary` (position parts omitted when unknown)."""
    where = f"{d.subject}: " if d.subject else ""
    return f"{where}{d.severity.value}: {d.summary}"


def _block(d: Diagnostic, sources: Mapping[str, str]) -> str:
    lines = [header(d)]
    lines.extend(_excerpt(d, sources))
    if d.detail:
        lines.extend("  " + line for line in d.detail.splitlines())
    return "\n".join(lines) + "\n"


def _excerpt(d: Diagnostic, sources: Mapping[str, str]) -> list[str]:
    s = d.subject
    if s is None or s.line <= 0 or s.file not in sources:
        return []
    text_lines = sources[s.file].splitlines()
    if s.line > len(text_lines):
        return []
    line = text_lines[s.line - 1].expandtabs(1)
    if len(line) > _EXCERPT_WIDTH:
        line = line[:_EXCERPT_WIDTH] + "…"
    out = [f"  {s.line:>4} | {line}"]
    if 0 < s.column <= len(line) + 1:
        out.append("       | " + " " * (s.column - 1) + "^")
    return out


def format_json(diags: Iterable[Diagnostic]) -> str:
    """A JSON list of Diagnostic.to_json() objects, stable key order, newline-terminated."""
    return json.dumps([d.to_json() for d in diags], indent=2, ensure_ascii=False) + "\n"

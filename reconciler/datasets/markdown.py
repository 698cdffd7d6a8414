"""`data check --format markdown`: a report for a pull-request comment. Pure: Reports in, text out.

One table row per file (result, examples, tokens and cost, errors, warnings), then per file
with findings a table of codes: severity, how many, and the first lines where each occurs.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.datasets.validate import Report
from reconciler.diagnostics import Diagnostic, Severity, sorted_diagnostics

FIRST_LINES = 5
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def markdown_report(checked: Sequence[tuple[Report, str]]) -> str:
    """checked: each file's report with its tokens-and-cost summary."""
    failed = sum(1 for report, _ in checked if report.has_errors)
    head = "## ftctl data check: " + (f"{failed} file(s) failed" if failed else "all files pass")
    out = [head, "", "| File | Result | Examples | Tokens and cost | Errors | Warnings |",
           "| --- | --- | --- | --- | --- | --- |"]
    for report, cost in checked:
        result = "❌ failed" if report.has_errors else "✅ ok"
        out.append(f"| `{report.file}` | {result} | {report.examples:,} | {cost} | "
                   f"{count(report, Severity.ERROR)} | {count(report, Severity.WARNING)} |")
    for report, _ in checked:
        if report.codes:
            out += ["", f"### `{report.file}`", "", "| Code | Severity | Count | First lines |",
                    "| --- | --- | --- | --- |"]
            out += [_code_row(report, code) for code in _codes_by_severity(report)]
    return "\n".join(out) + "\n"


def _severities(report: Report) -> dict[str, Severity]:
    found: dict[str, Severity] = {}
    for d in report.diagnostics:
        if d.code:
            found.setdefault(d.code, d.severity)
    return found


def count(report: Report, severity: Severity) -> int:
    """Issues of one severity, the ones beyond the per-code cap included."""
    of = _severities(report)
    return sum(n for code, n in report.codes.items() if of.get(code) is severity)


def _codes_by_severity(report: Report) -> list[str]:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    of = _severities(report)
    return sorted(report.codes, key=lambda c: (rank[of.get(c, Severity.INFO)], c))


def _code_row(report: Report, code: str) -> str:
    diags: list[Diagnostic] = [d for d in sorted_diagnostics(report.diagnostics) if d.code == code]
    severity = diags[0].severity if diags else Severity.INFO
    lines = sorted({d.subject.line for d in diags if d.subject and d.subject.line > 0})
    shown = ", ".join(str(n) for n in lines[:FIRST_LINES]) or "whole file"
    if len(lines) > FIRST_LINES:
        shown += ", …"
    return (f"| `{code}` | {_ICON[severity]} {severity.value} | {report.codes[code]:,} | "
            f"{shown} |")

"""Collects dataset problems as Diagnostics, capped per code so a huge bad file stays readable.

The first `cap` issues of each code are kept with their line numbers; the rest are only counted,
and one closing diagnostic per code says how many were left out. Checks name only the code:
its severity for this run (or that it is off) comes from `codes.Levels`. No I/O.
"""

from __future__ import annotations

from reconciler.datasets.codes import DEFAULT_LEVELS, ERROR, Levels
from reconciler.diagnostics import Diagnostic, Severity, SourceRange

DEFAULT_CAP = 20


class IssueSink:
    """Accumulates issues for one file. `file` is the name shown to the user."""

    def __init__(self, file: str, *, cap: int = DEFAULT_CAP,
                 levels: Levels = DEFAULT_LEVELS) -> None:
        self.file = file
        self.cap = cap
        self.levels = levels
        self.counts: dict[str, int] = {}
        self._severity: dict[str, Severity] = {}
        self._kept: list[Diagnostic] = []
        self.errors = 0
        # Silent per-code counts (with the first line) for facts reported once per file.
        self.tallies: dict[str, list[int]] = {}

    def tally(self, code: str, line: int) -> None:
        entry = self.tallies.get(code)
        if entry is None:
            self.tallies[code] = [1, line]
        else:
            entry[0] += 1

    def add(self, code: str, line: int, summary: str, detail: str = "", column: int = 0) -> None:
        severity = self.levels.of(code)
        if severity is None:  # turned off for this project
            return
        count = self.counts.get(code, 0) + 1
        self.counts[code] = count
        if severity is ERROR:
            self.errors += 1
        if count > self.cap:
            self._severity.setdefault(code, severity)
            return
        subject = SourceRange(file=self.file, line=max(line, 0), column=max(column, 0))
        self._kept.append(
            Diagnostic(
                severity=severity, summary=summary, detail=detail, subject=subject, code=code
            )
        )

    def absorb(self, other: IssueSink, offset: int) -> None:
        """Take over the issues of a sink that saw a later part of the file (lines + offset)."""
        for d in other._kept:
            s = d.subject
            line = s.line + offset if s is not None and s.line > 0 else 0
            column = s.column if s is not None else 0
            self.add(d.code or "", line, d.summary, d.detail, column)
        for code, severity in other._severity.items():
            extra = other.counts[code] - other.cap
            self.counts[code] = self.counts.get(code, 0) + extra
            self._severity.setdefault(code, severity)
            if severity is ERROR:
                self.errors += extra
        for code, (count, first) in other.tallies.items():
            entry = self.tallies.setdefault(code, [0, first + offset])
            entry[0] += count

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Kept issues plus one "N more" note per capped code."""
        out = list(self._kept)
        for code, severity in self._severity.items():
            more = self.counts[code] - self.cap
            out.append(
                Diagnostic(
                    severity=severity,
                    summary=f"{more} more `{code}` issue(s) not shown "
                    f"({self.counts[code]} in all)",
                    subject=SourceRange(file=self.file),
                    code=code,
                )
            )
        return tuple(out)

"""Diagnostics: user-facing problems with a severity and, when known, a source position.

L0 core type. Stdlib only, no I/O. User mistakes are collected as Diagnostics (all at once),
never raised; exceptions are kept for aborts (see errors.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRange:
    """A 1-based position in a file; `file` is as the user should see it (repo-relative)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem.

    summary: one line, no trailing period. detail: what was expected and how to fix it.
    code: a stable machine-readable code (dataset checks use it, e.g. "invalid_json").
    address: a model name or dotted path such as `support-bot.spec.method`.
    """

    severity: Severity
    summary: str
    detail: str = ""
    subject: SourceRange | None = None
    address: str | None = None
    code: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        subject = self.subject
        return {
            "severity": self.severity.value,
            "summary": self.summary,
            "detail": self.detail,
            "code": self.code,
            "address": self.address,
            "file": subject.file if subject else None,
            "line": subject.line if subject and subject.line > 0 else None,
            "column": subject.column if subject and subject.column > 0 else None,
        }


Diagnostics = tuple[Diagnostic, ...]


def error(summary: str, detail: str = "", **kwargs: object) -> Diagnostic:
    return Diagnostic(severity=Severity.ERROR, summary=summary, detail=detail, **kwargs)  # type: ignore[arg-type]


def warning(summary: str, detail: str = "", **kwargs: object) -> Diagnostic:
    return Diagnostic(severity=Severity.WARNING, summary=summary, detail=detail, **kwargs)  # type: ignore[arg-type]


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


def sort_key(d: Diagnostic) -> tuple[str, int, int, int, str]:
    s = d.subject
    return (
        s.file if s else "",
        s.line if s else 0,
        s.column if s else 0,
        _SEVERITY_RANK[d.severity],
        d.summary,
    )


def sorted_diagnostics(diags: Iterable[Diagnostic]) -> Diagnostics:
    """Deterministic order: by file, line, column, severity, summary."""
    return tuple(sorted(diags, key=sort_key))

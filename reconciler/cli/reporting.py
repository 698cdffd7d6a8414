"""Printing diagnostics at the edge, for every command: located text on stderr
(`echo_problems`), plus workflow annotations and the step summary when validate, plan or drift
run with `--format github` (`echo_diagnostics`)."""

from __future__ import annotations

from collections.abc import Mapping

import click

from reconciler.diagnostics import Diagnostics
from reconciler.render.diagnostics import format_text


def echo_diagnostics(diagnostics: Diagnostics, sources: Mapping[str, str] | None, *,
                     fmt: str, root: str, heading: str) -> None:
    """Annotations on stdout first (github format), then the located text on stderr."""
    if fmt == "github":
        from reconciler.app import github  # only here: it loads every plan renderer

        click.echo(github.report_diagnostics(diagnostics, project_root=root, heading=heading),
                   nl=False)
    echo_problems(diagnostics, sources)


def echo_problems(diagnostics: Diagnostics, sources: Mapping[str, str] | None = None) -> None:
    """Diagnostics as FILE:LINE:COL text with source excerpts on stderr (nothing when none)."""
    if diagnostics:
        click.echo(format_text(diagnostics, sources), err=True, nl=False)

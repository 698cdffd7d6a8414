"""Printing diagnostics at the edge: text on stderr, plus workflow annotations and the step
summary when a command runs with `--format github`. Shared by validate, plan and drift."""

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
    if diagnostics:
        click.echo(format_text(diagnostics, sources), err=True, nl=False)

"""`ftctl validate`: check manifests, settings and datasets without touching the network."""

from __future__ import annotations

import os

import click

from reconciler.app.validate import run_validate
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.cli.reporting import echo_diagnostics
from reconciler.diagnostics import Diagnostics, Severity
from reconciler.loader import LoadResult
from reconciler.render.diagnostics import format_json


@click.command("validate")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: diagnostics on stderr; json: a JSON list of diagnostics on stdout; github: "
    "text plus GitHub annotations on stdout and a step-summary section.",
)
@handled
def validate(fmt: str) -> int:
    """Check manifests, settings and datasets without touching the network.

    Reports every problem at once as FILE:LINE:COL: error: message.
    Exit 0 when there is no error (warnings allowed), 1 otherwise.
    """
    opts = global_options()
    result, ok = run_validate(opts.directory, opts.config)
    code = EXIT_OK if ok else EXIT_ERROR
    if fmt == "json":
        click.echo(format_json(result.diagnostics), nl=False)
        return code
    echo_diagnostics(result.diagnostics, result.sources, fmt=fmt,
                     root=_project_root(result, opts.directory), heading="ftctl validate")
    click.echo(_summary(result.diagnostics, result.desired is not None), err=not ok)
    return code


def _project_root(result: LoadResult, directory: str) -> str:
    # Diagnostic files are relative to the directory of ftctl.yaml, which --config may move.
    if result.desired is not None:
        return result.desired.settings.root
    return os.path.abspath(directory)


def _summary(diags: Diagnostics, loaded: bool) -> str:
    errors = sum(1 for d in diags if d.is_error)
    warnings = sum(1 for d in diags if d.severity is Severity.WARNING)
    if errors:
        return f"{errors} error(s), {warnings} warning(s)."
    return f"Valid: no errors, {warnings} warning(s)." if loaded else "Valid."

"""`ftctl drift`: Report where the remote has moved away from git (exit 2 when it has).

Exit codes: 0 in sync, 2 drift found, 1 error.
"""

from __future__ import annotations

import os

import click

from reconciler.app import github
from reconciler.app.plan import run_drift
from reconciler.cli.cmd_plan import use_color
from reconciler.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_diagnostics
from reconciler.render.drift import render_drift


@click.command("drift")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "github"]),
              default="text", show_default=True,
              help="Output format; github: text plus annotations, Markdown to the step summary.")
@handled
def drift(fmt: str) -> int:
    """Report where the remote has moved away from git (exit 2 when it has).

    Out-of-band deletions, failed or cancelled latest jobs, orphans, unmanaged fine-tuned
    models, base models retiring within 90 days, and serving versions whose recorded evaluation
    metrics are below the manifest's promote.min. Exit 0 in sync, 2 drift, 1 error.
    """
    opts = global_options()
    run = run_drift(opts.directory, opts.config, open_remote=open_remote)
    root = os.path.abspath(opts.directory)
    if run.report is None:
        echo_diagnostics(run.diagnostics, run.sources, fmt=fmt, root=root, heading="ftctl drift")
        return EXIT_ERROR
    if fmt == "github":
        click.echo(github.drift_report(run.report, project_root=root), nl=False)
    else:
        click.echo(render_drift(run.report, fmt, color=use_color(fmt)), nl=False)
    if not run.ok:
        return EXIT_ERROR
    return EXIT_CHANGES if run.report.has_drift else EXIT_OK

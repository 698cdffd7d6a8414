"""The ftctl command line: a click group, one module per command (or command family).

This package is the top layer: options -> app call -> render -> print. Commands never do work
themselves; `common.handled` owns messages and exit codes.
"""

from __future__ import annotations

import click

from reconciler import __version__
from reconciler.cli.commands import LazyGroup
from reconciler.cli.common import GlobalOptions


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="ftctl")
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Run as if started in DIR (the project root holding ftctl.yaml).",
)
@click.option(
    "--config",
    default=None,
    metavar="FILE",
    help="Settings file, relative to DIR (default: ftctl.yaml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, directory: str, config: str | None, debug: bool) -> None:
    """ftctl: declare fine-tuned models in git; plan and apply them like infrastructure.

    \b
    Exit codes: 0 success, 1 error, 2 changes or drift present
    (plan --detailed-exitcode, drift), 130 interrupted.
    """
    ctx.obj = GlobalOptions(directory=directory, config=config, debug=debug)


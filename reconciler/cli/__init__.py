"""The ftctl command line: a click group, one module per command (or command family).

This package is the top layer: options -> app call -> render -> print. Commands never do work
themselves; `common.handled` owns messages and exit codes.
"""

from __future__ import annotations

import click

from reconciler import __version__
from reconciler.cli.commands import LazyGroup
from reconciler.cli.common import GlobalOptions


def version_text(parser: str) -> str:
    """`ftctl --version`; it also says when YAML is read by the slow pure-Python parser."""
    if parser == "libyaml":
        return f"ftctl {__version__}"
    return (f"ftctl {__version__}\nYAML: pure-Python parser (PyYAML was built without libyaml; "
            "loading many manifests is several times slower)")


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from reconciler import yaml_document  # imported only here: PyYAML is slow to import

    click.echo(version_text(yaml_document.PARSER))
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version, help="Show the version and exit.")
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


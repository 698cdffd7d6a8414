"""`ftctl output`: name -> current fine-tuned model id, for other tools (JSON by default), or
name -> the deployment that serves it with `--deployments` (Azure: inference addresses
deployments). One shape, a string or null per name, on every provider."""

from __future__ import annotations

import json

import click

from reconciler.app.inspect import outputs, run_show
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_problems
from reconciler.diagnostics import has_errors


@click.command("output")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json",
              show_default=True, help="json: one object; text: NAME VALUE lines.")
@click.option("--deployments", is_flag=True,
              help="Each model's deployment name instead of its model id (Azure serves models "
                   "through deployments; null where there is none).")
@handled
def output(fmt: str, deployments: bool) -> int:
    """Print each model's current fine-tuned model id (null while none exists), or with
    --deployments the deployment that serves it (what Azure inference addresses)."""
    opts = global_options()
    result = run_show(opts.directory, opts.config, open_remote=open_remote)
    if has_errors(result.diagnostics):
        echo_problems(result.diagnostics)
        return EXIT_ERROR
    values = outputs(result.models, deployments=deployments)
    if fmt == "json":
        click.echo(json.dumps(values, indent=2, sort_keys=True))
        return EXIT_OK
    for name in sorted(values):
        click.echo(f"{name}\t{values[name] or '-'}")
    return EXIT_OK

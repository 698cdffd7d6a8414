"""`ftctl output`: name -> current fine-tuned model id, for other tools (JSON by default)."""

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
              show_default=True, help="json: one object; text: NAME MODEL_ID lines.")
@handled
def output(fmt: str) -> int:
    """Print each model's current fine-tuned model id (null while none exists)."""
    opts = global_options()
    result = run_show(opts.directory, opts.config, open_remote=open_remote)
    if has_errors(result.diagnostics):
        echo_problems(result.diagnostics)
        return EXIT_ERROR
    values = outputs(result.models)
    if fmt == "json":
        click.echo(json.dumps(values, indent=2, sort_keys=True))
    else:
        for name, model in sorted(values.items()):
            click.echo(f"{name}\t{model or '-'}")
    return EXIT_OK

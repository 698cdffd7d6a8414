"""`ftctl output`: name -> current fine-tuned model id, for other tools (JSON by default). On
Azure each name also has the deployment that serves it (inference addresses deployments)."""

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
    """Print each model's current fine-tuned model id (null while none exists).

    On Azure, a model with spec.deployment also shows the deployment that serves it (text: a
    third column; JSON: the name maps to {"model": ..., "deployment": ...}).
    """
    opts = global_options()
    result = run_show(opts.directory, opts.config, open_remote=open_remote)
    if has_errors(result.diagnostics):
        echo_problems(result.diagnostics)
        return EXIT_ERROR
    if fmt == "json":
        click.echo(json.dumps(outputs(result.models), indent=2, sort_keys=True))
        return EXIT_OK
    for model in sorted((m for m in result.models if m.managed), key=lambda m: m.name):
        columns = [model.name, model.current_model or "-"]
        if model.served_by_deployment:
            columns.append(model.deployment or "-")
        click.echo("\t".join(columns))
    return EXIT_OK

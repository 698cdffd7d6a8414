"""`ftctl try`: send a prompt to a model's current (or given) version and print the answer.

Useful to smoke-test a new version before merging. The answer alone goes to stdout; which
model and endpoint answered goes to stderr.
"""

from __future__ import annotations

import click

from reconciler.app.try_model import Prompt, try_model
from reconciler.cli.cmd_jobs import FORMAT, dump, operation, workspace
from reconciler.cli.common import EXIT_OK, handled


@click.command("try")
@click.argument("ref", metavar="NAME")
@click.argument("prompt")
@click.option("--temperature", type=click.FloatRange(0.0, 2.0), default=None,
              help="Sampling temperature (0 to 2).")
@click.option("--max-tokens", type=click.IntRange(min=1), default=None,
              help="Longest answer, in tokens.")
@click.option("--system", default=None, help="A system message (prepended to the prompt for "
              "completion models).")
@click.option("--version", "version", type=click.IntRange(min=0), default=None,
              help="This version of NAME instead of the current one.")
@FORMAT
@handled
@operation
def try_(ref: str, prompt: str, temperature: float | None, max_tokens: int | None,
         system: str | None, version: int | None, fmt: str) -> int:
    """Send PROMPT to NAME's current version (or a job/model id) and print the answer.

    Chat models get chat completions; babbage-002/davinci-002 and models built on them get
    completions.
    """
    question = Prompt(text=prompt, system=system, temperature=temperature, max_tokens=max_tokens)
    with workspace() as ws:
        result = try_model(ws, ref, question, version=version)
    if fmt == "json":
        dump(result.to_json())
        return EXIT_OK
    target = result.target
    label = f"{target.name} v{target.version}: " if target.name else ""
    through = f" through deployment {target.deployment}" if target.deployment else ""
    click.echo(f"{label}{target.model}{through} ({result.endpoint})", err=True)
    click.echo(result.answer)
    return EXIT_OK

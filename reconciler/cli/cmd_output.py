"""`ftctl output`: Print each model name's current fine-tuned model id."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("output")
@handled
def output() -> int:
    """Print each model name's current fine-tuned model id."""
    return not_available("output")

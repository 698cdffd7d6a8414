"""`ftctl try`: Send a prompt to a model's current version and print the answer."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("try")
@handled
def try_() -> int:
    """Send a prompt to a model's current version and print the answer."""
    return not_available("try")

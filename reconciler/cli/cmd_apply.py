"""`ftctl apply`: Carry out a plan: upload, train, wait, check, and retire old versions."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("apply")
@handled
def apply() -> int:
    """Carry out a plan: upload, train, wait, check, and retire old versions."""
    return not_available("apply")

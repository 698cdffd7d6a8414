"""`ftctl show`: Show each model's versions, ids and statuses."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("show")
@handled
def show() -> int:
    """Show each model's versions, ids and statuses."""
    return not_available("show")

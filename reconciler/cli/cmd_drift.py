"""`ftctl drift`: Report where the remote has moved away from git (exit 2 when it has)."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("drift")
@handled
def drift() -> int:
    """Report where the remote has moved away from git (exit 2 when it has)."""
    return not_available("drift")

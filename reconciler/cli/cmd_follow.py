"""`ftctl follow`: Re-attach to a running job's progress and events."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("follow")
@handled
def follow() -> int:
    """Re-attach to a running job's progress and events."""
    return not_available("follow")

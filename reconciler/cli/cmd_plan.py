"""`ftctl plan`: Show what apply would change, with field diffs, token counts and cost."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("plan")
@handled
def plan() -> int:
    """Show what apply would change, with field diffs, token counts and cost."""
    return not_available("plan")

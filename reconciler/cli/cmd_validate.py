"""`ftctl validate`: Check manifests, settings and datasets without touching the network."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("validate")
@handled
def validate() -> int:
    """Check manifests, settings and datasets without touching the network."""
    return not_available("validate")

"""`ftctl init`: Scaffold a project: ftctl.yaml, a manifest, a dataset, a CI workflow."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.command("init")
@handled
def init() -> int:
    """Scaffold a project: ftctl.yaml, a manifest, a dataset, a CI workflow."""
    return not_available("init")

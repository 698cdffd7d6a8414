"""`ftctl models list|delete`: fine-tuned models in the organization."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.group("models")
def models() -> None:
    """List fine-tuned models, and delete unmanaged leftovers."""


@models.command("list")
@handled
def list_() -> int:
    """List fine-tuned models with the manifest and version managing each."""
    return not_available("models list")

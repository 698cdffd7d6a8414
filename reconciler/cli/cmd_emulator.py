"""`ftctl emulator serve`: the local OpenAI-compatible fine-tuning emulator."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.group("emulator")
def emulator() -> None:
    """Run the local emulator of the OpenAI fine-tuning API."""


@emulator.command("serve")
@handled
def serve() -> int:
    """Serve the emulator on a loopback port."""
    return not_available("emulator serve")

"""`ftctl data check|stats|convert`: dataset validation, token counts and cost, conversion."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.group("data")
def data() -> None:
    """Check, measure and convert training datasets."""


@data.command("check")
@handled
def check() -> int:
    """Validate dataset files line by line."""
    return not_available("data check")


@data.command("stats")
@handled
def stats() -> int:
    """Examples, tokens, default epochs and estimated cost."""
    return not_available("data stats")


@data.command("convert")
@handled
def convert() -> int:
    """Convert CSV/TSV/XLSX/JSON/JSONL/TXT to fine-tuning JSONL."""
    return not_available("data convert")

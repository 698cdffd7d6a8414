"""`ftctl jobs list|get|events|cancel`: day-to-day job operations by manifest name or id."""

from __future__ import annotations

import click

from reconciler.cli.common import handled, not_available


@click.group("jobs")
def jobs() -> None:
    """List, inspect and cancel fine-tuning jobs."""


@jobs.command("list")
@handled
def list_() -> int:
    """List this workspace's jobs (--all: every job in the organization)."""
    return not_available("jobs list")

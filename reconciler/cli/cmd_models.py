"""`ftctl models list|delete`: fine-tuned models in the organization, and deleting unmanaged
leftovers (managed ones are deleted by removing their manifest, unless --force)."""

from __future__ import annotations

import click

from reconciler.app import models as app_models
from reconciler.cli.cmd_jobs import (
    FORMAT,
    YES,
    confirmed,
    dump,
    operation,
    owner_text,
    table,
    when,
    workspace,
)
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, handled


@click.group("models")
def models() -> None:
    """List fine-tuned models, and delete unmanaged leftovers."""


@models.command("list")
@FORMAT
@handled
@operation
def list_(fmt: str) -> int:
    """List fine-tuned models with the manifest and version managing each."""
    with workspace() as ws:
        rows = app_models.list_models(ws)
    if fmt == "json":
        dump({"models": [r.to_json() for r in rows]})
    elif not rows:
        click.echo("No fine-tuned models.")
    else:
        click.echo(table(
            ("MODEL", "MANAGED BY", "BASE MODEL", "BASE RETIRES", "CREATED"),
            [(r.model.id, owner_text(r.owner) + (" (current)" if r.current else ""),
              r.base_model or "-", r.base_shutdown_date or "-", when(r.model.created))
             for r in rows],
        ), nl=False)
    return EXIT_OK


@models.command("delete")
@click.argument("model_id", metavar="MODEL_ID")
@click.option("--force", is_flag=True,
              help="Delete even a model a manifest manages (the next plan trains it again).")
@YES
@FORMAT
@handled
@operation
def delete(model_id: str, force: bool, yes: bool, fmt: str) -> int:
    """Delete a fine-tuned model no manifest manages. Asks first unless --yes."""
    with workspace() as ws:
        row = app_models.delete_target(ws, model_id, force=force)
        whose = f" ({owner_text(row.owner)})" if row.owner.workspace else ""
        if not confirmed(f"Delete {model_id}{whose}? This cannot be undone.", yes,
                         "models delete"):
            return EXIT_ERROR
        app_models.delete(ws, row)
    if fmt == "json":
        dump({"deleted": model_id, "managed_by": row.owner.to_json()})
    else:
        click.echo(f"Deleted {model_id}{whose}.")
    if row.owner.manifest:
        click.echo(f"Warning: a manifest still manages {row.owner.name}; the next `ftctl plan` "
                   "reports this model as deleted out of band and trains it again.", err=True)
    return EXIT_OK

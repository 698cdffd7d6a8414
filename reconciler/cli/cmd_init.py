"""`ftctl init [DIR]`: scaffold a project: ftctl.yaml, a manifest, a dataset, a CI workflow."""

from __future__ import annotations

import os

import click

from reconciler.app import init as init_app
from reconciler.cli.common import EXIT_OK, global_options, handled


@click.command("init")
@click.argument("directory", required=False, default=".", metavar="[DIR]")
@click.option(
    "--name",
    default=init_app.DEFAULT_NAME,
    show_default=True,
    help="Name of the example model (manifest, dataset folder, suffix).",
)
@click.option(
    "--workspace",
    default=None,
    help="Workspace name in ftctl.yaml (default: derived from the directory name).",
)
@click.option(
    "--provider",
    type=click.Choice(init_app.PROVIDERS),
    default="openai",
    show_default=True,
    help="openai: start on the built-in local provider, then OpenAI. azure: Azure OpenAI "
         "settings with placeholders, spec.deployment, and a workflow that signs in with OIDC.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@handled
def init(directory: str, name: str, workspace: str | None, provider: str, force: bool) -> int:
    """Scaffold a project: ftctl.yaml, a manifest, a dataset, a CI workflow.

    DIR (default: the current directory, or -C DIR) is created if missing. Existing files are
    never overwritten unless --force is given. Afterwards `ftctl plan` works at once against
    the built-in local provider (with --provider azure: once ftctl.yaml names your resource).
    """
    base = global_options().directory
    target = directory if os.path.isabs(directory) else os.path.join(base, directory)
    result = init_app.scaffold(target, name=name, workspace=workspace, force=force,
                                provider=provider)
    click.echo(init_app.next_steps(result, shown_dir=os.path.normpath(target)))
    return EXIT_OK

"""The ftctl commands, each in its own module, loaded only when used.

`ftctl data check` should not pay for importing the planner, the client and the emulator, so
the group maps command names to modules and imports a command's module on first use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

# name -> (module in reconciler.cli, attribute holding the click command)
COMMANDS: Mapping[str, tuple[str, str]] = {
    "init": ("cmd_init", "init"),
    "validate": ("cmd_validate", "validate"),
    "plan": ("cmd_plan", "plan"),
    "apply": ("cmd_apply", "apply"),
    "drift": ("cmd_drift", "drift"),
    "show": ("cmd_show", "show"),
    "output": ("cmd_output", "output"),
    "data": ("cmd_data", "data"),
    "follow": ("cmd_follow", "follow"),
    "jobs": ("cmd_jobs", "jobs"),
    "try": ("cmd_try", "try_"),
    "eval": ("cmd_eval", "eval_"),
    "models": ("cmd_models", "models"),
    "emulator": ("cmd_emulator", "emulator"),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first lookup.

    It also owns one exit-code rule: a usage error (unknown flag, bad value) exits 1, not
    click's 2, because 2 means "changes present" to `plan --detailed-exitcode` and `drift`,
    and a CI script must never read a typo as "there is drift".
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(1 if isinstance(exc, click.UsageError) else exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        sys.exit(0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module_name, attr = COMMANDS[cmd_name]
            module = importlib.import_module(f"reconciler.cli.{module_name}")
            command: Any = getattr(module, attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def load_all(self) -> dict[str, click.Command]:
        """Every command, imported (for generated docs and the tests that pin the surface)."""
        ctx = click.Context(self)
        return {name: cmd for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None}

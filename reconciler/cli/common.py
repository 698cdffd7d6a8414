"""Shared pieces of the command line: the global options object, the one error handler and
exit-code table, and the stub for commands that are not built yet.

Exit codes (docs/commands.md): 0 success, 1 error, 2 changes/drift present (only where asked), 130
interrupted. Commands return an exit code; only `run` turns it into a process exit.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from reconciler.errors import FtctlError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """`ftctl [-C DIR] [--config FILE] [--debug]`."""

    directory: str
    config: str | None
    debug: bool

    @property
    def settings_path(self) -> str:
        if self.config:
            return os.path.join(self.directory, self.config)
        return os.path.join(self.directory, "ftctl.yaml")


def global_options() -> GlobalOptions:
    ctx = click.get_current_context()
    obj = ctx.find_object(GlobalOptions)
    if obj is None:  # a command invoked without the group (tests of a single command)
        return GlobalOptions(directory=".", config=None, debug=False)
    return obj


def handled(func: F) -> F:
    """Wrap a command: its return value is the exit code; errors become one clear line."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        debug = global_options().debug
        try:
            code = func(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            code = EXIT_INTERRUPTED
        except FtctlError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = EXIT_ERROR
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the single top-level handler
            if debug:
                raise
            click.echo(
                f"unexpected error (a bug in ftctl): {type(exc).__name__}: {exc}\n"
                "Rerun with --debug for the traceback, and please report it.",
                err=True,
            )
            code = EXIT_ERROR
        sys.exit(code or EXIT_OK)

    return wrapper  # type: ignore[return-value]


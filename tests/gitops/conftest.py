"""Fixtures for the GitOps tests: the real CLI's --help, parsed, to check command lines against.

`ftctl_invocations(script)` finds `ftctl ...` command lines in a shell script (a workflow's
`run:` or a docs code block); `cli_surface` checks one against what `ftctl <cmd> --help` says
really exists (subcommands, options and option choices), by running the CLI's --help.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main

REPO = Path(__file__).resolve().parents[2]

# `ftctl` at a command position: line start, after `;`, `&&`, `||`, `|`, `(`, `$(` or `then`.
_INVOCATION = re.compile(r"(?:^|[;&|(]\s*|\$\(\s*|\bthen\s+|\bdo\s+)ftctl\s+([^;&|)><\n]*)")
_COMMANDS = re.compile(r"^Commands:\n((?:\s+.*\n?)+)", re.M)
_GLOBAL_WITH_VALUE = {"-C", "--config"}


@dataclass
class Help:
    options: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # name -> choices
    commands: tuple[str, ...] = ()


def _run_help(words: tuple[str, ...]) -> str:
    """`ftctl WORDS --help` through click's own machinery (in-process: one import, fast)."""
    result = CliRunner().invoke(main, [*words, "--help"], prog_name="ftctl")
    assert result.exit_code == 0, (words, result.output)
    return result.output


def parse_help(text: str) -> Help:
    """Options (with their choices) and subcommands from click's --help text."""
    help_ = Help()
    for line in text.splitlines():
        if not line.startswith("  -"):
            continue  # option lines start with two spaces; wrapped help text is indented more
        head = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        choice = re.search(r"\[([^\]]*)\]", head)
        choices = tuple(choice.group(1).split("|")) if choice else None
        for name in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", head):
            help_.options[name] = choices
    section = _COMMANDS.search(text)
    if section:
        help_.commands = tuple(
            line.split()[0] for line in section.group(1).splitlines() if line.strip()
        )
    return help_


class CliSurface:
    """Checks ftctl command lines against the CLI's own --help output (cached per command)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ...], Help] = {}

    def help(self, words: tuple[str, ...]) -> Help:
        if words not in self._cache:
            self._cache[words] = parse_help(_run_help(words))
        return self._cache[words]

    def problems(self, argv: list[str]) -> list[str]:
        """Why `ftctl <argv>` would not parse; empty when every word is known."""
        args = list(argv)
        while args and args[0].startswith("-"):  # global options before the command
            opt = args.pop(0)
            if opt not in self.help(()).options:
                return [f"unknown global option {opt}"]
            if opt in _GLOBAL_WITH_VALUE and args:
                args.pop(0)
        words: tuple[str, ...] = ()
        while args and args[0] in self.help(words).commands:
            words = (*words, args.pop(0))
        if not words:
            return [f"unknown command {args[:1]}"]
        help_ = self.help(words)
        if help_.commands:
            return [f"`ftctl {' '.join(words)}` needs a subcommand, got {args[:1]}"]
        found: list[str] = []
        for i, arg in enumerate(args):
            if not arg.startswith("-") or arg == "-":
                continue
            name, _, inline = arg.partition("=")
            if name not in help_.options:
                found.append(f"`ftctl {' '.join(words)}` has no option {name}")
                continue
            choices = help_.options[name]
            value = inline or (args[i + 1] if i + 1 < len(args) else "")
            if choices is not None and value not in choices:
                found.append(f"{name} {value!r} is not one of {choices}")
        return found


def ftctl_invocations(script: str) -> list[list[str]]:
    """Every `ftctl ...` command line in a shell script, as argv without `ftctl`."""
    joined = script.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0]
        for match in _INVOCATION.finditer(line.strip()):
            found.append(shlex.split(match.group(1)))
    return found


@pytest.fixture(scope="session")
def cli_surface() -> CliSurface:
    return CliSurface()


@pytest.fixture(scope="session")
def invocations() -> Callable[[str], list[list[str]]]:
    return ftctl_invocations

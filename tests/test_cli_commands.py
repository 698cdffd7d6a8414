"""Pins the command-line surface of DESIGN §9: names are a public contract."""

from __future__ import annotations

from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli import main

EXPECTED = {
    "init", "validate", "plan", "apply", "drift", "show", "output", "data",
    "follow", "jobs", "try", "models", "emulator",
}


def test_every_design_command_is_registered() -> None:
    assert set(main.commands) == EXPECTED


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name in sorted(EXPECTED):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output

"""Pins the command-line surface of DESIGN §9: names are a public contract."""

from __future__ import annotations

from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli import main

EXPECTED = {
    "init", "validate", "plan", "apply", "drift", "show", "output", "data",
    "follow", "jobs", "try", "eval", "models", "emulator",
}


def test_every_design_command_is_registered() -> None:
    assert set(main.load_all()) == EXPECTED


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


def test_commands_are_imported_only_when_used() -> None:
    """`ftctl data check` must not pay for the planner, client and emulator imports."""
    import subprocess
    import sys

    code = (
        "import sys; from reconciler.cli import main; "
        "main(['data', '--help'], standalone_mode=False); "
        "print(sorted(m for m in sys.modules if m.startswith('reconciler.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "reconciler.cli.cmd_data" in out
    for heavy in ("reconciler.emulator", "reconciler.client", "reconciler.planner"):
        assert f"'{heavy}" not in out, heavy


def test_usage_errors_exit_1_not_2() -> None:
    """2 means "changes present" for plan --detailed-exitcode and drift; a typo is an error."""
    runner = CliRunner()
    for args in (["plan", "--no-such-flag"], ["drift", "--format", "xml"], ["nope"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error" in result.output

"""`ftctl --version` names the version, and says so when YAML is read by the pure-Python parser."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reconciler import __version__, yaml_document
from reconciler.cli import main


def test_version_with_libyaml_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_document, "PARSER", "libyaml")
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ftctl {__version__}\n"


def test_version_says_once_that_the_pure_python_parser_is_in_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yaml_document, "PARSER", "python")
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"ftctl {__version__}",
        "YAML: pure-Python parser (PyYAML was built without libyaml; loading many manifests "
        "is several times slower)",
    ]

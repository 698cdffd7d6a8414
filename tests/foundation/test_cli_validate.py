"""`ftctl validate`: exit codes, text on stderr, JSON on stdout, no network needed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

from .conftest import EXAMPLES, FIXTURES, MakeProject


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_examples_are_valid(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "ex")
    code, out, err = _run("-C", str(tmp_path / "ex"), "validate")
    assert code == 0, err
    assert "error" not in err.split("Valid")[0]
    assert "Valid: no errors" in out + err


def test_errors_exit_1_with_positions_on_stderr(make_project: MakeProject) -> None:
    text = (FIXTURES / "invalid" / "hyper_typo.yaml").read_text()
    root = make_project({"models/a.yaml": text})
    code, out, err = _run("-C", str(root), "validate")
    assert code == 1
    assert "models/a.yaml:11:7: error: unknown key 'n_epoch' (did you mean 'n_epochs'?)" in err
    assert "1 error(s)" in err
    assert out == ""


def test_json_format_lists_diagnostics_on_stdout(make_project: MakeProject) -> None:
    text = (FIXTURES / "invalid" / "seed_wrong_type.yaml").read_text()
    root = make_project({"models/a.yaml": text})
    code, out, _ = _run("-C", str(root), "validate", "--format", "json")
    assert code == 1
    [item] = json.loads(out)
    assert (item["file"], item["line"], item["severity"]) == ("models/a.yaml", 8, "error")


def test_json_format_clean_project_is_an_empty_list(make_project: MakeProject) -> None:
    text = (FIXTURES / "valid" / "minimal.yaml").read_text()
    root = make_project({"models/a.yaml": text})
    code, out, _ = _run("-C", str(root), "validate", "--format", "json")
    assert code == 0
    assert [d for d in json.loads(out) if d["severity"] == "error"] == []


def test_missing_settings_exit_1(tmp_path: Path) -> None:
    code, _, err = _run("-C", str(tmp_path), "validate")
    assert code == 1 and "settings file not found" in err


def test_config_option(make_project: MakeProject) -> None:
    root = make_project({"models/a.yaml": (FIXTURES / "valid" / "minimal.yaml").read_text()})
    (root / "ftctl.yaml").rename(root / "alt.yaml")
    assert _run("-C", str(root), "--config", "alt.yaml", "validate")[0] == 0


def test_bad_format_is_a_usage_error(make_project: MakeProject) -> None:
    assert _run("-C", str(make_project()), "validate", "--format", "xml")[0] == 1


def test_python_dash_m_entry_point(make_project: MakeProject) -> None:
    text = (FIXTURES / "invalid" / "suffix_too_long.yaml").read_text()
    root = make_project({"models/a.yaml": text})
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(root), "validate"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1
    assert "models/a.yaml:7:11: error: suffix is 70 characters long" in proc.stderr


def test_github_format_annotates_on_stdout(make_project: MakeProject, tmp_path: Path) -> None:
    text = (FIXTURES / "invalid" / "seed_wrong_type.yaml").read_text()
    root = make_project({"models/a.yaml": text})
    env = {"GITHUB_WORKSPACE": str(root.parent), "GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    result = CliRunner().invoke(main, ["-C", str(root), "validate", "--format", "github"],
                                env=env)
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=project/models/a.yaml,line=8,col=9")
    assert "models/a.yaml:8:9: error: seed" in result.stderr

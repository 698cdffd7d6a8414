"""`--format github` on validate/plan/drift and `plan --max-cost`, end to end through the CLI
on a scaffolded project against the local provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.app.init import scaffold
from reconciler.cli import main


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo" / "ml"
    scaffold(str(root), name="bot", workspace="demo")
    return root


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_WORKSPACE": str(tmp_path / "repo"),
    }


def _summary(tmp_path: Path) -> str:
    path = tmp_path / "summary.md"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_validate_github_annotates_errors_on_their_line(project: Path, tmp_path: Path) -> None:
    manifest = project / "models" / "bot.yaml"
    manifest.write_text(
        manifest.read_text("utf-8").replace("n_epochs: 3", "n_epoch: 3"), encoding="utf-8"
    )
    result = CliRunner().invoke(
        main, ["-C", str(project), "validate", "--format", "github"], env=_env(tmp_path)
    )
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert errors, result.output
    assert errors[0].startswith("::error file=ml/models/bot.yaml,line=")
    assert "n_epoch" in errors[0]
    assert "### ftctl validate" in _summary(tmp_path)


def test_validate_github_clean_project(project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(project), "validate", "--format", "github"], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "::error" not in result.stdout
    assert "### ftctl validate" in _summary(tmp_path)


def test_plan_github_prints_text_and_writes_markdown_summary(
    project: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, ["-C", str(project), "plan", "--format", "github"], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert 'model "bot"' in result.stdout
    assert _summary(tmp_path).startswith("<!-- ftctl:plan workspace=demo -->")


def test_max_cost_fails_an_expensive_plan_and_keeps_no_saved_plan(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plan.bin"
    result = CliRunner().invoke(main, [
        "-C", str(project), "plan", "--out", str(out), "--format", "json", "--max-cost", "0.001",
    ])
    assert result.exit_code == 1
    assert "above --max-cost $0.00" in result.output
    assert '"errored": true' in result.stdout
    assert not out.exists()


def test_max_cost_passes_a_cheap_plan(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.bin"
    result = CliRunner().invoke(main, [
        "-C", str(project), "plan", "--out", str(out), "--max-cost", "100",
    ])
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_max_cost_rejects_a_negative_limit(project: Path) -> None:
    result = CliRunner().invoke(main, ["-C", str(project), "plan", "--max-cost", "-1"])
    assert result.exit_code == 1  # a usage error: never 2, which means "changes"


def test_drift_github(project: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    applied = runner.invoke(main, ["-C", str(project), "apply", "--auto-approve", "--no-wait"])
    assert applied.exit_code == 0, applied.output
    # The manifest is gone: its job is now an orphan, which is drift.
    (project / "models" / "bot.yaml").rename(project / "models" / "bot.yaml.off")
    text = (project / "models" / "bot.yaml.off").read_text("utf-8")
    (project / "models" / "other.yaml").write_text(
        text.replace("name: bot", "name: other"), encoding="utf-8"
    )
    result = runner.invoke(
        main, ["-C", str(project), "drift", "--format", "github"], env=_env(tmp_path)
    )
    assert result.exit_code == 2, result.output
    assert "::warning title=ftctl%3A drift orphan::" in result.stdout
    assert _summary(tmp_path).strip()  # the Markdown report went to the step summary

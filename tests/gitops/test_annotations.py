"""GitHub annotation lines and step-summary output for `--format github`."""

from __future__ import annotations

from pathlib import Path

from reconciler.app.github import append_step_summary, report_diagnostics
from reconciler.diagnostics import Diagnostic, Severity, SourceRange, error, warning
from reconciler.render import github


def test_error_with_position() -> None:
    diag = error(
        "Unknown key n_epoch",
        "Expected one of n_epochs, batch_size.",
        subject=SourceRange(file="models/bot.yaml", line=7, column=5),
        code="unknown_key",
    )
    assert github.annotation(diag) == (
        "::error file=models/bot.yaml,line=7,col=5,title=ftctl%3A unknown_key"
        "::Unknown key n_epoch%0AExpected one of n_epochs, batch_size."
    )


def test_message_escaping_matches_the_runner() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_property_values_with_separators_are_escaped() -> None:
    diag = warning("odd name", subject=SourceRange(file="data/a,b:c.jsonl", line=3))
    line = github.annotation(diag)
    assert line.startswith("::warning file=data/a%2Cb%3Ac.jsonl,line=3,title=ftctl::")
    assert "col=" not in line


def test_sourceless_diagnostic_names_its_address_and_info_is_a_notice() -> None:
    diag = Diagnostic(severity=Severity.INFO, summary="job in progress", address="bot")
    assert github.annotation(diag) == "::notice title=ftctl::bot: job in progress"


def test_path_prefix_makes_paths_workspace_relative() -> None:
    diag = error("bad", subject=SourceRange(file="models/x.yaml", line=1, column=1))
    line = github.annotation(diag, path_prefix="ml/project")
    assert "file=ml/project/models/x.yaml," in line


def test_workspace_prefix() -> None:
    env = {"GITHUB_WORKSPACE": "/home/runner/work/repo"}
    assert github.workspace_prefix("/home/runner/work/repo/ml", env) == "ml"
    assert github.workspace_prefix("/home/runner/work/repo", env) == ""
    assert github.workspace_prefix("/elsewhere", env) == ""
    assert github.workspace_prefix("/home/runner/work/repo2", env) == ""
    assert github.workspace_prefix("/x", {}) == ""


def test_format_annotations_one_line_each() -> None:
    diags = (error("a"), warning("b\nc"))
    text = github.format_annotations(diags)
    assert text.splitlines() == ["::error title=ftctl::a", "::warning title=ftctl::b%0Ac"]
    assert github.format_annotations(()) == ""


def test_summary_markdown_lists_problems() -> None:
    diags = (error("bad | pipe", subject=SourceRange(file="m.yaml", line=2, column=3)),)
    md = github.diagnostics_markdown(diags, heading="ftctl validate")
    assert md.startswith("### ftctl validate\n")
    assert "1 error(s), 0 warning(s)." in md
    assert "| ❌ | `m.yaml:2:3` | **bad \\| pipe** |" in md
    assert "No problems found" in github.diagnostics_markdown(())


def test_step_summary_appends_only_when_set(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    assert append_step_summary("## plan", env) is True
    assert append_step_summary("## again\n", env) is True
    assert summary.read_text(encoding="utf-8") == "earlier step\n## plan\n\n## again\n\n"
    assert append_step_summary("## plan", {}) is False


def test_report_diagnostics_writes_summary_and_returns_annotations(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    project = tmp_path / "repo" / "ml"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path / "repo")}
    diag = error("bad", subject=SourceRange(file="models/x.yaml", line=4, column=2))
    out = report_diagnostics([diag], project_root=str(project), heading="ftctl validate", env=env)
    assert out == "::error file=ml/models/x.yaml,line=4,col=2,title=ftctl::bad\n"
    assert "### ftctl validate" in summary.read_text(encoding="utf-8")


def test_more_than_github_shows_per_level_are_summarised() -> None:
    diags = [error(f"e{i}", subject=SourceRange(file="d.jsonl", line=i)) for i in range(1, 14)]
    diags.append(warning("w"))
    lines = github.format_annotations(diags).splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == github.MAX_PER_LEVEL
    assert errors[-1] == (
        "::error title=ftctl::4 more error(s) not shown as annotations"
        "%0AEvery problem is listed in the job log and the step summary."
    )
    assert errors[0].startswith("::error file=d.jsonl,line=1,")
    assert lines[-1] == "::warning title=ftctl::w"


def test_exactly_the_limit_is_shown_in_full() -> None:
    diags = [error(f"e{i}") for i in range(10)]
    assert len(github.format_annotations(diags).splitlines()) == 10

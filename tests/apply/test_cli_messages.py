"""What apply tells a new user: each problem once, the command it suggests works, a saved
plan is the approval, and a missing settings file is named before anything else."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from reconciler.app.project import manifests_digest
from reconciler.cli import main
from reconciler.cli.cmd_apply import NO_TERMINAL

from .conftest import Project

ENV = {"OPENAI_BASE_URL": "", "CI": "1"}


def plan_file(project: Project) -> str:
    return str(project.root / "plan.json")  # --out is relative to the working directory


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], env=ENV)


def test_without_a_terminal_apply_suggests_a_saved_plan_which_then_applies(
    project: Project,
) -> None:
    project.model("alpha")
    refused = run(project.root, "apply")
    assert refused.exit_code == 1
    assert refused.stderr.endswith(f"Error: {NO_TERMINAL}\n")
    assert "`ftctl apply FILE` (a saved plan is the approval)" in NO_TERMINAL
    assert json.loads(run(project.root, "output").stdout) == {"alpha": None}
    # The suggested command works with no terminal: the reviewed plan needs no second yes.
    assert run(project.root, "plan", "--out", plan_file(project)).exit_code == 0
    applied = run(project.root, "apply", plan_file(project))
    assert applied.exit_code == 0, applied.output
    assert "not a terminal" not in applied.output and "Apply complete" in applied.stdout
    assert json.loads(run(project.root, "output").stdout)["alpha"].startswith("ft:")


def test_without_a_terminal_nothing_to_do_is_not_refused(project: Project) -> None:
    project.model("alpha")
    assert run(project.root, "apply", "--auto-approve").exit_code == 0
    again = run(project.root, "apply")
    assert again.exit_code == 0 and "No changes" in again.stdout


def test_apply_without_settings_says_so_first(tmp_path: Path) -> None:
    for args in (("apply",), ("apply", str(tmp_path / "plan.json")), ("apply", "--auto-approve")):
        result = run(tmp_path, *args)
        assert result.exit_code == 1
        assert result.stderr.splitlines()[0].startswith(
            "ftctl.yaml: error: settings file not found:"), result.stderr
        assert "not a terminal" not in result.output


def test_a_saved_plan_applied_after_the_manifests_changed_says_so(project: Project) -> None:
    project.model("alpha")
    assert run(project.root, "plan", "--out", plan_file(project)).exit_code == 0
    project.model("alpha", n_epochs=2)
    applied = run(project.root, "apply", plan_file(project))
    assert applied.exit_code == 0, applied.output
    hint = "the manifests differ from the ones this plan was made from"
    assert applied.output.count(hint) == 1
    assert "Apply complete" in applied.stdout


def test_the_manifests_digest_is_stable() -> None:
    # Saved into plan files (Plan.extra): a change of this value makes old saved plans warn.
    sources = {"models/a.yaml": "kind: FineTunedModel\n", "ftctl.yaml": "kind: Project\n"}
    assert manifests_digest(sources) == (
        "1cda1cab23754471520f06fad38cd9ddb7f7f5b27ef8e67d3f1b619cf6df44e0")


def test_a_saved_plan_records_the_manifests_it_was_made_from(project: Project) -> None:
    project.model("alpha")
    assert run(project.root, "plan", "--out", plan_file(project)).exit_code == 0
    sources = {rel: (project.root / rel).read_text() for rel in
               ("ftctl.yaml", "models/alpha.yaml")}
    saved = json.loads((project.root / "plan.json").read_text())
    assert saved["plan"]["extra"] == [["manifests_sha256", manifests_digest(sources)]]


def test_a_saved_plan_applied_unchanged_gives_no_hint(project: Project) -> None:
    project.model("alpha")
    assert run(project.root, "plan", "--out", plan_file(project)).exit_code == 0
    applied = run(project.root, "apply", plan_file(project))
    assert applied.exit_code == 0 and "manifests differ" not in applied.output


def test_a_failed_check_is_printed_once(project: Project) -> None:
    project.model("alpha", checks=[("alpha question 1", "zzz-never-said")])
    result = run(project.root, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert result.output.count("zzz-never-said") == 1, result.output
    assert "FAILED: create alpha (version 1)\n" in result.stdout
    assert "alpha/create-job: 1 of 1 check(s) failed on ft:" in result.stdout
    assert "Checks: 0 passed, 1 failed." in result.stdout


def test_an_http_400_is_printed_once(project: Project) -> None:
    # Listed by the provider (so plan accepts it) but refused by job creation: HTTP 400.
    project.model("alpha", base="gpt-4o-2024-05-13")
    result = run(project.root, "apply", "--auto-approve")
    assert result.exit_code == 1
    assert result.output.count("HTTP 400") == 1, result.output
    assert result.output.count("gpt-4o-2024-05-13 is not available") == 1


def test_each_note_is_printed_once(project: Project) -> None:
    lines = [json.dumps({"prompt": f"q{i} ->", "completion": f" a{i}\n"}) for i in range(12)]
    (project.root / "data").mkdir(exist_ok=True)
    (project.root / "data" / "pc.jsonl").write_text("\n".join(lines) + "\n")
    # babbage-002 retires: a warning note of the plan; 12 examples: a dataset note.
    project.model("alpha", base="babbage-002", data="../data/pc.jsonl")
    for args in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = run(project.root, *args)
        assert result.exit_code == 0, result.output
        assert result.output.count("well-crafted ones are recommended") == 1, (args, result.output)
        if args[0] != "validate":
            assert result.output.count("is retired on") == 1, (args, result.output)


def test_no_manifest_found_is_an_error_for_validate_plan_and_apply(project: Project) -> None:
    project.model("alpha")
    settings = (project.root / "ftctl.yaml").read_text()
    (project.root / "ftctl.yaml").write_text(settings + "manifests: [configs/]\n")
    for args in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = run(project.root, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "error: no manifests found" in result.stderr
        assert "No changes" not in result.output
    # Models outlive their manifests: looking at them and cleaning up still works.
    for args in (("output",), ("show",), ("models", "list")):
        result = run(project.root, *args)
        assert result.exit_code == 0, (args, result.output)


def test_a_manifest_directory_is_read_recursively(project: Project) -> None:
    project.model("alpha")
    nested = project.root / "models" / "team"
    nested.mkdir()
    (project.root / "models" / "alpha.yaml").rename(nested / "alpha.yml")
    text = (nested / "alpha.yml").read_text().replace("../data/", "../../data/")
    (nested / "alpha.yml").write_text(text)
    settings = (project.root / "ftctl.yaml").read_text()
    (project.root / "ftctl.yaml").write_text(settings + "manifests: [models/]\n")
    result = run(project.root, "plan")
    assert result.exit_code == 0, result.output
    assert '+ model "alpha"' in result.stdout


def _blocked_by_prevent_destroy(project: Project) -> int:
    """A trained model whose retrain would delete its only kept version; returns the line of
    `prevent_destroy` in its manifest."""
    project.model("alpha")
    assert run(project.root, "apply", "--auto-approve").exit_code == 0
    project.model("alpha", n_epochs=2, prevent_destroy=True)
    lines = (project.root / "models" / "alpha.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "prevent_destroy" in line)


def test_a_plan_blocked_by_prevent_destroy_reports_the_key_on_stderr(project: Project) -> None:
    line = _blocked_by_prevent_destroy(project)
    where = f"models/alpha.yaml:{line}:5: error: alpha: plan would delete ft:"
    for fmt in ("text", "json", "markdown"):
        result = run(project.root, "plan", "--format", fmt)
        assert result.exit_code == 1, (fmt, result.output)
        assert result.stderr.startswith(where), (fmt, result.stderr)
        assert result.stderr.count("lifecycle.prevent_destroy is set") == 1
        if fmt == "text":
            assert "Error:" not in result.stdout
            assert "prevent_destroy is set" not in result.stdout
            assert "This plan has 1 error and cannot be applied." in result.stdout
        if fmt == "json":
            [note] = [n for n in json.loads(result.stdout)["diagnostics"]
                      if n["severity"] == "error"]
            assert "prevent_destroy is set" in note["summary"]
            assert (note["file"], note["line"], note["column"]) == ("models/alpha.yaml", line, 5)
        if fmt == "markdown":
            assert "prevent_destroy is set" in result.stdout

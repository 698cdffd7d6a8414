"""The scaffolded workflow's evaluation pieces, run for real where they can be: the report step
(its Python) on the log of a real `ftctl apply`, and both github-script comment steps in Node
against the fake GitHub API of tests/gitops."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.app.init import render_files
from reconciler.cli import main

from .conftest import EvalProject

HARNESS = Path(__file__).parents[1] / "gitops" / "github_script_harness.js"
NODE = shutil.which("node")


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        render_files(name="bot", workspace="demo")[".github/workflows/ftctl.yml"])
    return loaded


def step(job: str, name: str) -> dict[str, Any]:
    found = [s for s in workflow()["jobs"][job]["steps"] if s.get("name") == name]
    assert len(found) == 1
    return found[0]


def run_script(tmp_path: Path, script: str, state: dict[str, Any],
               env: dict[str, str]) -> list[list[Any]]:
    assert NODE is not None
    (tmp_path / "script.js").write_text(script, encoding="utf-8")
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    done = subprocess.run([NODE, str(HARNESS), "script.js", "state.json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 0, done.stderr
    calls: list[list[Any]] = json.loads(done.stdout)
    return calls


def report_script() -> str:
    """The Python of the apply job's report step (the heredoc of its shell script)."""
    run = step("apply", "Collect the evaluation report")["run"]
    code = re.search(r"<<'PY'\n(.*)\n\s*PY\n?$", run, re.S)
    assert code is not None
    return textwrap.dedent(code.group(1))


def test_permissions_of_the_evaluation_jobs() -> None:
    jobs = workflow()["jobs"]
    assert jobs["evaluation-comment"]["permissions"] == {"pull-requests": "write"}
    assert jobs["evaluation-comment"]["needs"] == "apply"
    assert jobs["eval"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "inputs.task == 'eval'" in jobs["eval"]["if"]
    assert 'ftctl eval "$MODEL" --format markdown' in step("eval", "Evaluate")["run"]


def test_apply_keeps_the_scores_for_drift() -> None:
    restore = step("drift", "Restore the evaluation scores")
    save = step("apply", "Save the evaluation scores")
    assert restore["uses"] == "actions/cache/restore@v4"
    assert save["uses"] == "actions/cache/save@v4"
    assert restore["with"]["path"] == save["with"]["path"] == ".ftctl/cache/eval-scores.json"
    assert save["with"]["key"].startswith(restore["with"]["restore-keys"])
    names = [s.get("name") for s in workflow()["jobs"]["drift"]["steps"]]
    assert names.index("Restore the evaluation scores") < names.index("Drift")


def test_the_report_step_turns_apply_output_into_a_comment(eval_project: EvalProject,
                                                           tmp_path: Path) -> None:
    eval_project.training(right=6)
    applied = CliRunner().invoke(main, ["-C", str(eval_project.root), "apply",
                                        "--auto-approve"],
                                 env={"NO_COLOR": "1", "CI": "1", "OPENAI_BASE_URL": ""})
    assert applied.exit_code == 0, applied.output
    work = tmp_path / "ci"
    work.mkdir()
    (work / "apply.log").write_text(applied.stdout, encoding="utf-8")
    script = report_script()
    summary = work / "summary.md"
    done = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True,
                          text=True, env={"GITHUB_STEP_SUMMARY": str(summary)}, check=False)
    assert done.returncode == 0, done.stderr
    report = (work / "eval.md").read_text(encoding="utf-8")
    assert report.startswith("### ftctl evaluation after apply: ✅ passed\n")
    assert "  exact           -     0.6000      -\n" in report
    assert "PASSED: the new version may replace the serving one." in report
    assert summary.read_text(encoding="utf-8").startswith(report)


def test_no_evaluation_in_the_log_means_no_report(tmp_path: Path) -> None:
    (tmp_path / "apply.log").write_text("Apply complete: 2 done, 0 failed, 0 skipped.\n")
    done = subprocess.run([sys.executable, "-c", report_script()], cwd=tmp_path,
                          capture_output=True, text=True, check=False,
                          env={"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")})
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "eval.md").exists()


@pytest.mark.skipif(NODE is None, reason="node is needed to run github-script code")
def test_the_report_is_commented_on_the_merged_pull_request(tmp_path: Path) -> None:
    (tmp_path / "eval.md").write_text("### ftctl evaluation after apply: ✅ passed\n")
    script = step("evaluation-comment", "Comment the evaluation on the pull request")
    calls = run_script(tmp_path, script["with"]["script"], {}, {"PR_NUMBER": "12"})
    assert calls == [["issues.createComment", {
        "owner": "acme", "repo": "models", "issue_number": 12,
        "body": "<!-- ftctl:eval -->\n### ftctl evaluation after apply: ✅ passed\n"}]]


@pytest.mark.skipif(NODE is None, reason="node is needed to run github-script code")
def test_a_manual_eval_is_commented_on_the_commits_pull_request(tmp_path: Path) -> None:
    (tmp_path / "eval.md").write_text("### ftctl evaluation: `support` ❌ refused\n")
    script = step("eval", "Comment the evaluation on the pull request")["with"]["script"]
    calls = run_script(tmp_path, script, {"pulls": [{"number": 5}]}, {})
    assert calls[-1] == ["issues.createComment", {
        "owner": "acme", "repo": "models", "issue_number": 5,
        "body": "<!-- ftctl:eval -->\n### ftctl evaluation: `support` ❌ refused\n"}]
    alone = run_script(tmp_path, script, {"pulls": []}, {})
    assert [c[0] for c in alone] == ["repos.listPulls"]

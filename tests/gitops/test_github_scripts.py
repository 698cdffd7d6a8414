"""The workflow's actions/github-script steps, run in Node against a fake GitHub REST API.

GitHub itself cannot be real in a test; everything else is: the script text comes straight from
the scaffolded workflow, and plan.md / plan.json / drift.md are files in a temp directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.app.init import render_files

HARNESS = Path(__file__).with_name("github_script_harness.js")
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is needed to run github-script code")

MARKER = "<!-- ftctl:plan workspace=demo -->"


def _script(job: str, needle: str = "issues") -> str:
    workflow = yaml.safe_load(
        render_files(name="bot", workspace="demo")[".github/workflows/ftctl.yml"]
    )
    steps = workflow["jobs"][job]["steps"]
    scripts = [s["with"]["script"] for s in steps if s.get("uses", "").startswith(
        "actions/github-script") and needle in s["with"]["script"]]
    assert len(scripts) == 1
    return str(scripts[0])


def _run(
    tmp_path: Path,
    job: str,
    state: dict[str, Any],
    env: dict[str, str] | None = None,
    needle: str = "issues",
) -> list[list[Any]]:
    (tmp_path / "script.js").write_text(_script(job, needle), encoding="utf-8")
    (tmp_path / "state.json").write_text(json.dumps(state), encoding="utf-8")
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(HARNESS), "script.js", "state.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    calls = json.loads(proc.stdout)
    return [c for c in calls if c[0] not in ("issues.listComments", "issues.listForRepo")]


def _plan_files(tmp_path: Path, deletes: int) -> None:
    (tmp_path / "plan.md").write_text(f"{MARKER}\n## ftctl plan\n", encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps({"summary": {"delete": deletes}}), "utf-8")


def _comment(cid: int, body: str, kind: str = "Bot") -> dict[str, Any]:
    return {"id": cid, "body": body, "user": {"type": kind, "login": "github-actions[bot]"}}


def test_first_plan_creates_the_comment(tmp_path: Path) -> None:
    _plan_files(tmp_path, deletes=0)
    calls = _run(tmp_path, "plan", {"comments": [_comment(1, "LGTM", kind="User")]})
    assert calls[0][0] == "issues.createComment"
    assert calls[0][1]["body"].startswith(MARKER)
    assert calls[1][0] == "issues.removeLabel"  # no deletes: the label is cleared (404 is fine)


def test_next_push_updates_the_same_comment(tmp_path: Path) -> None:
    _plan_files(tmp_path, deletes=0)
    state = {"comments": [
        _comment(1, f"{MARKER}\nold plan"),
        _comment(2, "<!-- ftctl:plan workspace=other -->\nanother project"),
        _comment(3, f"{MARKER}\nquoted by a human", kind="User"),
    ]}
    calls = _run(tmp_path, "plan", state)
    assert calls[0] == ["issues.updateComment", {
        "owner": "acme", "repo": "models", "comment_id": 1,
        "body": f"{MARKER}\n## ftctl plan\n"}]
    assert not any(c[0] == "issues.createComment" for c in calls)


def test_deleting_plan_gets_the_label(tmp_path: Path) -> None:
    _plan_files(tmp_path, deletes=2)
    calls = _run(tmp_path, "plan", {"comments": [], "labels": []})
    assert ["issues.addLabels", {"owner": "acme", "repo": "models", "issue_number": 7,
                                 "labels": ["ftctl:deletes-models"]}] in calls


def test_failed_plan_reuses_the_comment_with_a_failure_note(tmp_path: Path) -> None:
    (tmp_path / "plan.err").write_text("models/a.yaml:3:5: error: unknown key\n", "utf-8")
    calls = _run(tmp_path, "plan", {"comments": [_comment(5, f"{MARKER}\nold plan")],
                                    "labels": ["ftctl:deletes-models"]},
                 env={"PLAN_OUTCOME": "failure"})
    assert calls[0][0] == "issues.updateComment" and calls[0][1]["comment_id"] == 5
    body = calls[0][1]["body"]
    assert "ftctl plan failed" in body and "actions/runs/42" in body
    assert "<summary>ftctl plan errors</summary>" in body
    assert "models/a.yaml:3:5: error: unknown key" in body


def test_guardrail_failure_keeps_the_plan_and_shows_why(tmp_path: Path) -> None:
    _plan_files(tmp_path, deletes=0)
    (tmp_path / "plan.err").write_text("error: estimated training cost $12.00 is above "
                                       "--max-cost $10.00\n", "utf-8")
    calls = _run(tmp_path, "plan", {"comments": []}, env={"PLAN_OUTCOME": "failure"})
    body = calls[0][1]["body"]
    assert body.startswith(MARKER) and "above --max-cost" in body


def test_stderr_is_not_shown_when_the_plan_succeeded(tmp_path: Path) -> None:
    _plan_files(tmp_path, deletes=0)
    (tmp_path / "plan.err").write_text("Saved the plan to plan.bin\n", "utf-8")
    calls = _run(tmp_path, "plan", {"comments": []}, env={"PLAN_OUTCOME": "success"})
    assert "plan errors" not in calls[0][1]["body"]


def test_drift_opens_one_issue(tmp_path: Path) -> None:
    (tmp_path / "drift.md").write_text("model bot was deleted by hand\n", encoding="utf-8")
    calls = _run(tmp_path, "drift", {"issues": []}, env={"DRIFT_EXITCODE": "2"})
    assert [c[0] for c in calls] == ["issues.create"]
    assert calls[0][1]["body"].startswith("<!-- ftctl:drift -->")
    assert "deleted by hand" in calls[0][1]["body"]


def test_drift_updates_the_open_issue(tmp_path: Path) -> None:
    (tmp_path / "drift.md").write_text("still drifted\n", encoding="utf-8")
    issues = [
        {"number": 3, "body": "<!-- ftctl:drift -->\nold", "pull_request": {"url": "x"}},
        {"number": 9, "body": "<!-- ftctl:drift -->\nold"},
    ]
    calls = _run(tmp_path, "drift", {"issues": issues}, env={"DRIFT_EXITCODE": "2"})
    assert [c[0] for c in calls] == ["issues.update"]
    assert calls[0][1]["issue_number"] == 9


def test_back_in_sync_closes_the_issue(tmp_path: Path) -> None:
    issues = [{"number": 9, "body": "<!-- ftctl:drift -->\nold"}]
    calls = _run(tmp_path, "drift", {"issues": issues}, env={"DRIFT_EXITCODE": "0"})
    assert [c[0] for c in calls] == ["issues.createComment", "issues.update"]
    assert calls[1][1]["state"] == "closed"


def test_in_sync_without_an_issue_does_nothing(tmp_path: Path) -> None:
    assert _run(tmp_path, "drift", {"issues": []}, env={"DRIFT_EXITCODE": "0"}) == []


def _find_reviewed(tmp_path: Path, state: dict[str, Any]) -> dict[str, str]:
    calls = _run(tmp_path, "apply", state, needle="listWorkflowRunsForRepo")
    outputs: dict[str, str] = {}
    for name, args in calls:
        if name == "core.setOutput":
            outputs.update(args)
    return outputs


def test_apply_finds_the_latest_successful_plan_run_of_the_merged_pr(tmp_path: Path) -> None:
    wf = ".github/workflows/ftctl.yml"
    state = {
        "pulls": [{"number": 12, "merged_at": "2026-01-01", "head": {"sha": "h1"}}],
        "runs": [
            {"id": 100, "run_number": 1, "path": wf, "conclusion": "success"},
            {"id": 101, "run_number": 2, "path": wf, "conclusion": "success"},
            {"id": 102, "run_number": 3, "path": wf, "conclusion": "failure"},
            {"id": 103, "run_number": 4, "path": ".github/workflows/ci.yml",
             "conclusion": "success"},
        ],
    }
    assert _find_reviewed(tmp_path, state) == {"pr": "12", "run_id": "101"}


def test_apply_without_a_merged_pr_finds_no_plan(tmp_path: Path) -> None:
    state = {"pulls": [{"number": 3, "merged_at": None, "head": {"sha": "h"}}], "runs": []}
    assert _find_reviewed(tmp_path, state) == {"run_id": ""}


def test_validation_failure_points_at_the_annotations(tmp_path: Path) -> None:
    calls = _run(tmp_path, "plan", {"comments": [_comment(5, f"{MARKER}\nold plan")]},
                 env={"VALIDATE_OUTCOME": "failure", "PLAN_OUTCOME": "skipped"})
    assert calls[0][0] == "issues.updateComment" and calls[0][1]["comment_id"] == 5
    body = calls[0][1]["body"]
    assert body.startswith("<!-- ftctl:plan -->\n### ❌ ftctl validate failed")
    assert "Files changed" in body

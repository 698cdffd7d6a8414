"""The GitHub workflows: this repository's CI and the one `ftctl init` scaffolds for users.

They must parse, follow the least-privilege rules of the issue, and call only ftctl commands,
options and option values that exist (checked by running the CLI's --help).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.app.init import render_files

REPO = Path(__file__).resolve().parents[2]
CI = REPO / ".github" / "workflows" / "ci.yml"

Invocations = Callable[[str], list[list[str]]]


def _user_workflow_text() -> str:
    return render_files(name="support-bot", workspace="demo")[".github/workflows/ftctl.yml"]


def _load(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    # YAML 1.1 reads the bare key `on` as True; GitHub reads it as "on".
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


def _run_scripts(workflow: dict[Any, Any]) -> list[str]:
    return [step["run"] for _, step in _steps(workflow) if "run" in step]


@pytest.fixture(scope="module")
def user_workflow() -> dict[Any, Any]:
    return _load(_user_workflow_text())


def test_ci_runs_the_ci_entry_point_on_prs_and_main() -> None:
    ci = _load(CI.read_text(encoding="utf-8"))
    assert "pull_request" in ci["on"] and "pull_request_target" not in ci["on"]
    assert ci["on"]["push"]["branches"] == ["main"]
    assert ci["permissions"] == {"contents": "read"}
    assert any(script.strip() == "bash .ci/run" for script in _run_scripts(ci))
    assert (REPO / ".ci" / "run").is_file()


def test_user_workflow_triggers(user_workflow: dict[Any, Any]) -> None:
    on = user_workflow["on"]
    assert set(on) >= {"pull_request", "push", "schedule"}
    assert "pull_request_target" not in on
    assert on["push"]["branches"] == ["main"]
    assert on["schedule"][0]["cron"]


def test_manual_runs_choose_drift_or_apply(user_workflow: dict[Any, Any]) -> None:
    task = user_workflow["on"]["workflow_dispatch"]["inputs"]["task"]
    assert task["options"] == ["drift", "apply", "eval"] and task["default"] == "drift"
    jobs = user_workflow["jobs"]
    assert "inputs.task == 'apply'" in jobs["apply"]["if"]
    assert "refs/heads/main" in jobs["apply"]["if"]
    assert "inputs.task == 'drift'" in jobs["drift"]["if"]
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"


def test_least_privilege_permissions(user_workflow: dict[Any, Any]) -> None:
    assert user_workflow["permissions"] == {}
    allowed = {"read", "write", "none"}
    for job_id, job in user_workflow["jobs"].items():
        perms = job["permissions"]
        assert isinstance(perms, dict), job_id
        assert set(perms.values()) <= allowed, job_id
        assert "write-all" not in str(perms)
    assert user_workflow["jobs"]["plan"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }
    assert user_workflow["jobs"]["drift"]["permissions"] == {
        "contents": "read",
        "issues": "write",
    }
    apply_perms = user_workflow["jobs"]["apply"]["permissions"]
    assert all(v == "read" for v in apply_perms.values())


def test_only_first_party_actions(user_workflow: dict[Any, Any]) -> None:
    ci = _load(CI.read_text(encoding="utf-8"))
    for workflow in (user_workflow, ci):
        for _, step in _steps(workflow):
            if "uses" in step:
                assert step["uses"].startswith("actions/"), step["uses"]
                assert "@v" in step["uses"]


def test_apply_is_serialised_and_never_cancelled(user_workflow: dict[Any, Any]) -> None:
    apply = user_workflow["jobs"]["apply"]
    assert apply["concurrency"]["group"].startswith("ftctl-apply")
    assert apply["concurrency"]["cancel-in-progress"] is False
    scripts = "\n".join(step.get("run", "") for step in apply["steps"])
    assert "ftctl apply reviewed/plan.bin --auto-approve" in scripts
    assert "ftctl plan --format json > replan.json" in scripts
    assert "plan-changed" in scripts


def test_plan_job_posts_one_sticky_comment_and_uploads_the_plan(
    user_workflow: dict[Any, Any],
) -> None:
    steps = user_workflow["jobs"]["plan"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "ftctl validate --format github" in runs
    assert "ftctl plan --out plan.bin --format markdown" in runs
    scripts = [s["with"]["script"] for s in steps if s.get("uses", "").startswith(
        "actions/github-script")]
    assert len(scripts) == 1
    script = scripts[0]
    assert "'<!-- ftctl:plan'" in script
    assert "updateComment" in script and "createComment" in script
    assert "ftctl:deletes-models" in script
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "plan.bin" in uploads[0]["with"]["path"]


def test_drift_job_keeps_a_single_issue(user_workflow: dict[Any, Any]) -> None:
    steps = user_workflow["jobs"]["drift"]["steps"]
    script = next(s["with"]["script"] for s in steps if "with" in s and "script" in s["with"])
    assert "<!-- ftctl:drift -->" in script
    for call in ("issues.create(", "issues.update(", "state: 'closed'"):
        assert call in script


def test_api_key_only_from_secrets(user_workflow: dict[Any, Any]) -> None:
    text = _user_workflow_text()
    assert "sk-" not in text
    for job in user_workflow["jobs"].values():
        for step in job["steps"]:
            key = step.get("env", {}).get("OPENAI_API_KEY")
            if key is not None:
                assert key == "${{ secrets.OPENAI_API_KEY }}"


def test_workflows_call_only_existing_commands_and_flags(
    user_workflow: dict[Any, Any], cli_surface: Any, invocations: Invocations
) -> None:
    ci = _load(CI.read_text(encoding="utf-8"))
    calls = [argv for wf in (user_workflow, ci) for s in _run_scripts(wf) for argv in
             invocations(s)]
    assert len(calls) >= 6  # validate, plan x3, apply x2, drift ...
    problems = {" ".join(argv): cli_surface.problems(argv) for argv in calls}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_checker_catches_unknown_flags(cli_surface: Any, invocations: Invocations) -> None:
    # The check above must be able to fail.
    [argv] = invocations("ftctl init --no-such-flag > out.txt")
    assert cli_surface.problems(argv) == ["`ftctl init` has no option --no-such-flag"]
    assert cli_surface.problems(["no-such-command"]) == ["unknown command ['no-such-command']"]
    assert invocations("x=1 && ftctl -C dir init --force | tee log") == [
        ["-C", "dir", "init", "--force"]
    ]
    assert cli_surface.problems(["-C", "dir", "init", "--force"]) == []


def _compare_script(workflow: dict[Any, Any]) -> str:
    step = next(s for s in workflow["jobs"]["apply"]["steps"]
                if s.get("name") == "Re-plan and compare with the reviewed plan")
    script = step["run"]
    return str(script.split("python - <<'PY'\n", 1)[1].split("\nPY", 1)[0])


def _change(name: str, action: str, reason: str = "new", **extra: Any) -> dict[str, Any]:
    return {"name": name, "action": action, "reason": reason, "fields": [], **extra}


@pytest.mark.parametrize(
    ("reviewed", "current", "same"),
    [
        ([_change("a", "create")], [_change("a", "create")], True),
        # No-ops may differ in why without changing what apply does.
        ([_change("a", "noop", "in_progress")], [_change("a", "noop", "unchanged")], True),
        ([_change("a", "create")], [_change("a", "create"), _change("b", "delete")], False),
        ([_change("a", "retrain", version=2)], [_change("a", "retrain", version=3)], False),
    ],
)
def test_apply_compares_the_logical_plan(
    user_workflow: dict[Any, Any], tmp_path: Path, reviewed: Any, current: Any, same: bool
) -> None:
    (tmp_path / "reviewed").mkdir()
    (tmp_path / "reviewed" / "plan.json").write_text(json.dumps({"changes": reviewed}), "utf-8")
    (tmp_path / "replan.json").write_text(json.dumps({"changes": current}), "utf-8")
    proc = subprocess.run([sys.executable, "-"], input=_compare_script(user_workflow),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode == 0) is same, proc.stdout + proc.stderr
    if not same:
        assert "::error title=ftctl%3A plan-changed::" in proc.stdout
        assert "--- reviewed" in proc.stdout

"""`ftctl plan` and `ftctl drift` end to end: provider local (the emulator on a loopback port,
its database under .ftctl/), real files, the CLI's exit codes and output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from planner_projects import carry_out, wait_until_settled, write_project

from reconciler.app.plan import run_plan
from reconciler.cli import main
from reconciler.cli.provider import open_remote
from reconciler.spec import Settings

SECRET = "sk-user-SECRET-0123456789"


def ftctl(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args], env={"OPENAI_API_KEY": SECRET})


def deploy(root: Path) -> None:
    """Carry the current plan out on the project's local emulator and wait for the jobs."""
    run = run_plan(str(root), open_remote=open_remote)
    assert run.plan is not None and run.ok, run.diagnostics
    with open_remote(Settings(workspace="e2e", root=str(root))) as api:
        carry_out(run.plan, api, root)
        wait_until_settled(api)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_project(tmp_path, speed=5000)
    return tmp_path


def test_plan_exit_codes_and_formats(project: Path) -> None:
    plain = ftctl(project, "plan")
    assert plain.exit_code == 0, plain.output + plain.stderr
    assert "Plan: 1 to create" in plain.stdout
    detailed = ftctl(project, "plan", "--detailed-exitcode")
    assert detailed.exit_code == 2
    as_json = ftctl(project, "plan", "--format", "json")
    doc = json.loads(as_json.stdout)
    assert doc["format_version"] and doc["summary"]["create"] == 1
    assert [c["action"] for c in doc["changes"] if c["name"] == "bot"][0] == "create"
    markdown = ftctl(project, "plan", "--format", "markdown")
    assert markdown.exit_code == 0 and "bot" in markdown.stdout
    out = project / "saved.plan"
    saved = ftctl(project, "plan", "--out", str(out))
    assert saved.exit_code == 0 and out.is_file()
    for result in (plain, detailed, as_json, markdown, saved):
        assert SECRET not in result.stdout + result.stderr
    assert SECRET not in out.read_text()
    assert (project / ".ftctl" / "emulator.db").is_file()


def test_plan_reports_load_errors_with_exit_1(project: Path) -> None:
    (project / "models" / "bot.yaml").write_text(
        "apiVersion: ftctl/v1\nkind: FineTunedModel\nmetadata: {name: bot}\nspec:\n  n_epoch: 3\n")
    result = ftctl(project, "plan", "--detailed-exitcode")
    assert result.exit_code == 1
    assert "models/bot.yaml:" in result.stderr and result.stdout == ""


def test_deployed_project_is_in_sync_then_drifts(project: Path) -> None:
    drift = ftctl(project, "drift")
    assert drift.exit_code == 0, drift.output + drift.stderr  # nothing deployed yet: no drift
    deploy(project)
    assert ftctl(project, "plan", "--detailed-exitcode").exit_code == 0
    assert ftctl(project, "drift").exit_code == 0
    with open_remote(Settings(workspace="e2e", root=str(project))) as api:
        (model,) = [m.id for m in api.list_models() if m.is_fine_tuned]
        api.delete_model(model)
    drifted = ftctl(project, "drift", "--format", "json")
    assert drifted.exit_code == 2
    assert "deleted_out_of_band" in drifted.stdout and model in drifted.stdout
    replan = ftctl(project, "plan", "--detailed-exitcode", "--format", "json")
    assert replan.exit_code == 2
    assert json.loads(replan.stdout)["summary"]["create"] == 1


def test_prevent_destroy_fails_the_plan(project: Path) -> None:
    write_project(project, speed=5000, prevent_destroy=True)
    deploy(project)
    write_project(project, speed=5000, prevent_destroy=True, n_epochs=2)
    result = ftctl(project, "plan", "--detailed-exitcode")
    assert result.exit_code == 1
    assert "prevent_destroy" in result.stdout + result.stderr
    targeted = ftctl(project, "plan", "--target", "nope")
    assert targeted.exit_code == 1

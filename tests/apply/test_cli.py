"""The apply, show and output commands end to end (CliRunner; the local provider starts the
emulator on a loopback port)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import main

from .conftest import Project


def run(project: Project, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(project.root), *args],
                                env={"OPENAI_BASE_URL": "", "CI": "1"})
    return result.exit_code, result.output


def test_apply_refuses_without_a_terminal_and_changes_nothing(project: Project) -> None:
    project.model("alpha")
    code, out = run(project, "apply")
    assert code == 1
    assert "not a terminal" in out and "--auto-approve" in out
    code, out = run(project, "output")
    assert code == 0 and json.loads(out) == {"alpha": None}


def test_apply_show_output(project: Project) -> None:
    project.model("alpha")
    project.model("child", base="ref:alpha", data=project.data("kid"))
    code, out = run(project, "apply", "--auto-approve")
    assert code == 0, out
    assert "Apply complete" in out and "done: create child (version 1)" in out
    # --auto-approve skips the question, not the plan: it is shown before anything runs.
    assert out.index('+ model "alpha"') < out.index("done: create alpha (version 1)")
    code, out = run(project, "output")
    models = json.loads(out)
    assert sorted(models) == ["alpha", "child"]
    assert all(m.startswith("ft:") for m in models.values())
    code, out = run(project, "show", "alpha")
    assert code == 0
    assert out.startswith(f"alpha: {models['alpha']}")
    assert "v1  ftjob-" in out and "succeeded" in out and "(current)" in out
    code, out = run(project, "show", "--format", "json")
    shown = {m["name"]: m for m in json.loads(out)["models"]}
    assert shown["child"]["current_model"] == models["child"]
    assert shown["child"]["versions"][0]["trained_tokens"] > 0
    code, out = run(project, "apply", "--auto-approve")
    assert code == 0 and "No changes" in out
    code, out = run(project, "output", "--format", "text")
    assert out.splitlines() == [f"alpha\t{models['alpha']}", f"child\t{models['child']}"]


def test_no_wait_says_what_is_still_training(project: Project) -> None:
    project.settings(speed=1)
    project.model("alpha")
    code, out = run(project, "apply", "--auto-approve", "--no-wait")
    assert code == 0, out
    assert "Still training:\n  alpha: ftjob-" in out and "ftctl plan" in out


def test_show_unknown_name_is_an_error(project: Project) -> None:
    project.model("alpha")
    code, out = run(project, "show", "nope")
    assert code == 1 and "no model named 'nope'" in out


def test_a_saved_plan_cannot_be_reshaped_with_targets(project: Project) -> None:
    project.model("alpha")
    code, out = run(project, "apply", "plan.json", "--target", "alpha", "--auto-approve")
    assert code == 1 and "saved plan" in out


def test_apply_refuses_a_plan_file_of_another_format_and_changes_nothing(
    project: Project,
) -> None:
    project.model("alpha")
    old = (project.root.parent / "old.plan")
    golden = Path(__file__).parents[1] / "render" / "golden" / "planfile"
    old.write_text((golden / "format1-from-0.1.0.json").read_text())
    code, out = run(project, "apply", "--auto-approve", str(old))
    assert code == 1, out
    assert "saved by ftctl 0.1.0 in plan file format 1" in out
    assert "run `ftctl plan --out` again" in out and "Traceback" not in out
    code, out = run(project, "output")
    assert code == 0 and json.loads(out) == {"alpha": None}

"""`ftctl eval` and the plan's evaluation line through the real command line, on a local
project (the emulator on loopback, state in .ftctl)."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner, Result

from reconciler.cli import main

from .conftest import EvalProject

ENV = {"NO_COLOR": "1", "CI": "1", "OPENAI_BASE_URL": ""}


def ftctl(project: EvalProject, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(project.root), *args], env=ENV)


def test_plan_shows_eval_set_size_and_inference_cost(eval_project: EvalProject) -> None:
    eval_project.training(right=6)
    result = ftctl(eval_project, "plan")
    assert result.exit_code == 0, result.output + result.stderr
    # 10 examples; prompts "You answer shipping questions." + "When does order i ship?"
    # (53 characters each) and expected answers of 24 characters: 132 and 60 tokens at
    # $0.30 / $1.20 per 1M, for the new and the serving version.
    line = ("support: evaluation on 10 example(s) of evals/support.jsonl, estimated inference "
            "cost $0.0002 (new and serving version)")
    assert line in result.output + result.stderr, result.output + result.stderr
    as_json = json.loads(ftctl(eval_project, "plan", "--format", "json").output)
    notes = [n for n in as_json["diagnostics"] if n["code"] == "evaluation_cost"]
    assert [n["summary"] for n in notes] == [line]


def test_eval_command_in_every_format(eval_project: EvalProject) -> None:
    eval_project.training(right=6)
    applied = ftctl(eval_project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Evaluation of support on 10 example(s)" in applied.output
    assert "PASSED: the new version may replace the serving one." in applied.output

    result = ftctl(eval_project, "eval", "support", "--format", "json")
    assert result.exit_code == 0, result.output + result.stderr
    assert json.loads(result.stdout) == {
        "model": "support", "examples": 10, "passed": True,
        "metrics": [{"grader": "exact", "serving": None, "candidate": 0.6, "delta": None},
                    {"grader": "mentions", "serving": None, "candidate": 0.6, "delta": None}]}
    text = ftctl(eval_project, "eval", "support")
    assert "  exact           -     0.6000      -\n" in text.stdout, text.stdout
    markdown = ftctl(eval_project, "eval", "support", "--format", "markdown")
    assert markdown.stdout.startswith("### ftctl evaluation: `support` ✅ passed\n")

    eval_project.manifest(minimum=0.7)  # the manifest now asks more than v1 reaches
    refused = ftctl(eval_project, "eval", "support")
    assert refused.exit_code == 1
    assert "REFUSED: exact 0.6 is below the minimum 0.7." in refused.stdout


def test_eval_mistakes_are_one_clear_line(eval_project: EvalProject) -> None:
    eval_project.training(right=6)
    missing = ftctl(eval_project, "eval", "nobody")
    assert missing.exit_code == 1 and "Traceback" not in missing.output + missing.stderr
    assert "no manifest named nobody" in missing.stderr
    nothing = ftctl(eval_project, "eval", "support")
    assert nothing.exit_code == 1
    assert "support has no version to evaluate" in nothing.stderr
    usage = ftctl(eval_project, "eval", "support", "--format", "yaml")
    assert usage.exit_code == 1


def test_drift_reports_a_serving_version_below_a_new_min(eval_project: EvalProject) -> None:
    eval_project.training(right=6)
    assert ftctl(eval_project, "apply", "--auto-approve").exit_code == 0
    in_sync = ftctl(eval_project, "drift")
    assert in_sync.exit_code == 0, in_sync.output + in_sync.stderr

    eval_project.manifest(minimum=0.7)  # v1 was measured at 0.6
    drifted = ftctl(eval_project, "drift", "--format", "json")
    assert drifted.exit_code == 2, drifted.output + drifted.stderr
    [item] = json.loads(drifted.stdout)["items"]
    assert item["kind"] == "below_evaluation_min" and item["name"] == "support"
    assert item["message"].endswith("was measured below what the manifest now asks for: "
                                    "exact 0.6 is below the minimum 0.7")

    # The metrics are read from the verdict recorded on the provider, not from the local score
    # cache: a CI runner that starts with no .ftctl at all sees the same drift.
    shutil.rmtree(eval_project.root / ".ftctl" / "cache")
    again = ftctl(eval_project, "drift", "--format", "json")
    assert again.exit_code == 2, again.output + again.stderr
    assert json.loads(again.stdout)["items"] == [item]

    eval_project.manifest(minimum=0.5)  # a floor v1 reaches: no drift
    assert ftctl(eval_project, "drift").exit_code == 0


def test_show_marks_a_refused_version_with_its_recorded_metrics(
        eval_project: EvalProject) -> None:
    eval_project.training(right=6)
    assert ftctl(eval_project, "apply", "--auto-approve").exit_code == 0
    eval_project.training(right=5)  # 0.6 -> 0.5: beyond max_regression 0.05
    refused = ftctl(eval_project, "apply", "--auto-approve")
    assert refused.exit_code == 1, refused.output + refused.stderr
    # What show says comes from the provider (the local emulator keeps its own state in
    # .ftctl; ftctl's score cache goes).
    shutil.rmtree(eval_project.root / ".ftctl" / "cache")

    shown = ftctl(eval_project, "show", "support")
    assert shown.exit_code == 0, shown.output + shown.stderr
    v2, v1 = shown.stdout.splitlines()[1:3]
    assert v2.startswith("  v2") and v2.endswith(
        "exact 0.5000, mentions 0.5000  (evaluation refused)")
    assert v1.startswith("  v1") and v1.endswith("exact 0.6000, mentions 0.6000  (current)")
    doc = json.loads(ftctl(eval_project, "show", "support", "--format", "json").stdout)
    versions = doc["models"][0]["versions"]
    assert [(v["verdict"], v["current"], v["metrics"]) for v in versions] == [
        ("evaluation refused", False, {"exact": 0.5, "mentions": 0.5}),
        ("passed", True, {"exact": 0.6, "mentions": 0.6}),
    ]
    # No retraining loop: the plan says why and proposes nothing to train.
    planned = ftctl(eval_project, "plan", "--format", "json")
    changes = json.loads(planned.stdout)["changes"]
    assert [c["actions"] for c in changes] == [["noop"]]
    assert "was refused by its evaluation; version 1" in planned.stdout

"""End to end on the emulator: a better version is promoted (the old one retired), a worse one
is refused by max_regression and the old version keeps serving; the metric table in text,
Markdown and JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from reconciler.app.apply import ApplyReport
from reconciler.app.evaluate import run_eval
from reconciler.events import StepStatus
from reconciler.planner.identity import META_NAME, META_WORKSPACE
from reconciler.render.evaluation import render_evaluation
from reconciler.snapshot import JobStatus

from .conftest import NAME, WORKSPACE, EvalProject, Remote


def models_of(remote: Remote) -> list[str]:
    """The support model's versions whose model exists, oldest first."""
    live = {m.id for m in remote.api.list_models()}
    jobs = sorted(remote.api.list_jobs(metadata={META_WORKSPACE: WORKSPACE}),
                  key=lambda j: int(j.meta("ftctl-version") or 0))
    return [str(j.fine_tuned_model) for j in jobs
            if j.meta(META_NAME) == NAME and j.status is JobStatus.SUCCEEDED
            and j.fine_tuned_model in live]


def evaluation_of(report: ApplyReport) -> dict[str, Any]:
    outcomes = [c.evaluation for c in report.checks if c.evaluation is not None]
    assert len(outcomes) == 1 and outcomes[0] is not None
    return outcomes[0].to_json()


def test_first_version_is_measured_against_nothing(eval_project: EvalProject,
                                                   remote: Remote) -> None:
    eval_project.training(right=6)
    report = remote.apply(eval_project)
    assert report.ok, report.results
    assert evaluation_of(report) == {
        "model": NAME, "examples": 10, "passed": True,
        "metrics": [
            {"grader": "exact", "serving": None, "candidate": 0.6, "delta": None},
            {"grader": "mentions", "serving": None, "candidate": 0.6, "delta": None},
        ],
    }


def test_a_first_version_below_min_is_refused(eval_project: EvalProject,
                                              remote: Remote) -> None:
    eval_project.training(right=3)
    report = remote.apply(eval_project)
    assert not report.ok
    failed = [r for r in report.results if r.status is StepStatus.FAILED]
    assert len(failed) == 1
    assert "evaluation refused" in failed[0].message
    assert "exact 0.3 is below the minimum 0.5" in failed[0].message


def test_better_version_promoted_worse_version_refused(eval_project: EvalProject,
                                                       remote: Remote) -> None:
    eval_project.training(right=6)
    assert remote.apply(eval_project).ok
    [first] = models_of(remote)

    eval_project.training(right=9)  # better: 0.6 -> 0.9
    better = remote.apply(eval_project)
    assert better.ok, better.results
    [second] = models_of(remote)
    assert second != first  # promoted, and the old version retired (keep_versions: 1)
    assert evaluation_of(better)["metrics"] == [
        {"grader": "exact", "serving": 0.6, "candidate": 0.9, "delta": 0.3},
        {"grader": "mentions", "serving": 0.6, "candidate": 0.9, "delta": 0.3},
    ]

    eval_project.training(right=8)  # worse: 0.9 -> 0.8, beyond max_regression 0.05
    worse = remote.apply(eval_project)
    assert not worse.ok
    outcome = evaluation_of(worse)
    assert outcome["passed"] is False
    assert outcome["metrics"][0] == {
        "grader": "exact", "serving": 0.9, "candidate": 0.8, "delta": -0.1}
    refused = [r for r in worse.results if r.status is StepStatus.FAILED]
    assert [r.key.split("/")[0] for r in refused] == [NAME]
    assert "max_regression 0.05" in refused[0].message
    # The version that served before is kept; nothing retires it.
    assert second in models_of(remote)
    assert not any(r.key.startswith(f"{NAME}/delete") and r.status is StepStatus.DONE
                   for r in worse.results)

    # A later apply does not retire the better version behind the refused one's back.
    again = remote.apply(eval_project)
    assert second in models_of(remote)
    assert not any(r.status is StepStatus.DONE and "delete" in r.key for r in again.results)


def test_regression_within_max_regression_is_promoted(eval_project: EvalProject,
                                                      remote: Remote) -> None:
    eval_project.manifest(max_regression=0.1)
    eval_project.training(right=9)
    assert remote.apply(eval_project).ok
    eval_project.training(right=8)  # 0.9 -> 0.8: exactly the allowed regression
    report = remote.apply(eval_project)
    assert report.ok, report.results
    assert evaluation_of(report)["metrics"][0]["delta"] == -0.1


def test_metric_table_in_text_markdown_and_json(eval_project: EvalProject,
                                                remote: Remote) -> None:
    eval_project.training(right=6)
    assert remote.apply(eval_project).ok
    [old] = models_of(remote)
    eval_project.training(right=5)
    assert not remote.apply(eval_project).ok
    new = models_of(remote)[-1]

    outcome = run_eval(remote.workspace(eval_project), NAME)
    assert (outcome.candidate, outcome.serving) == (new, old)

    text = render_evaluation(outcome, "text").replace(new, "NEW").replace(old, "OLD")
    assert text == (
        "Evaluation of support on 10 example(s)\n"
        "  candidate: NEW\n"
        "  serving:   OLD\n"
        "\n"
        "  metric    serving  candidate    delta\n"
        "  exact      0.6000     0.5000  -0.1000\n"
        "  mentions   0.6000     0.5000  -0.1000\n"
        "\n"
        "REFUSED: exact fell 0.1 below the serving version (0.6 -> 0.5), more than "
        "max_regression 0.05.\n"
    )
    markdown = render_evaluation(outcome, "markdown").replace(new, "NEW").replace(old, "OLD")
    assert markdown == (
        "### ftctl evaluation: `support` ❌ refused\n"
        "\n"
        "10 example(s) · candidate `NEW` · serving `OLD`\n"
        "\n"
        "| metric | serving | candidate | delta |\n"
        "| --- | ---: | ---: | ---: |\n"
        "| exact | 0.6000 | 0.5000 | -0.1000 |\n"
        "| mentions | 0.6000 | 0.5000 | -0.1000 |\n"
        "\n"
        "**Refused**: the serving version stays.\n"
        "\n"
        "- exact fell 0.1 below the serving version (0.6 -> 0.5), more than "
        "max_regression 0.05\n"
    )
    assert json.loads(render_evaluation(outcome, "json")) == {
        "model": "support", "examples": 10, "passed": False,
        "metrics": [
            {"grader": "exact", "serving": 0.6, "candidate": 0.5, "delta": -0.1},
            {"grader": "mentions", "serving": 0.6, "candidate": 0.5, "delta": -0.1},
        ],
    }

    # Version 1 is the serving version (version 2 was refused): nothing to compare it with.
    older = run_eval(remote.workspace(eval_project), NAME, version=1)
    assert (older.candidate, older.serving) == (old, None)


def test_the_examples_project_evaluates_its_support_bot(tmp_path: Path, remote: Remote) -> None:
    examples = Path(__file__).parents[2] / "examples"
    root = tmp_path / "examples"
    shutil.copytree(examples, root, ignore=shutil.ignore_patterns(".ftctl"))
    report = remote.apply(EvalProject(root))
    assert report.ok, report.results
    [outcome] = [c.evaluation for c in report.checks if c.evaluation is not None]
    assert outcome.name == "support-bot" and outcome.examples == 10 and outcome.passed
    assert [m.grader for m in outcome.metrics] == ["mentions", "close"]
    assert outcome.metrics[0].candidate == 1.0

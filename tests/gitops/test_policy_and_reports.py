"""`plan --max-cost` guardrail and the `--format github` plan/drift reports (app layer)."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.app.github import drift_report, plan_report
from reconciler.app.guardrails import MAX_COST_CODE, enforce_max_cost, max_cost_notes, plan_cost
from reconciler.app.plan import PlanRun
from reconciler.diagnostics import SourceRange, error
from reconciler.plan import (
    Action,
    CreateJob,
    DriftItem,
    DriftKind,
    DriftReport,
    Estimate,
    Plan,
    Reason,
    Step,
)

METHOD = json.dumps({"type": "supervised"})


def _create(name: str, cost: float | None, tokens: int = 1000) -> Step:
    return Step(
        key=f"{name}/create-job",
        action=Action.CREATE,
        name=name,
        reason=Reason.NEW,
        payload=CreateJob(
            name=name, model="gpt-4o-mini-2024-07-18", training_file="file-1",
            validation_file=None, method_json=METHOD, suffix=name, seed=None,
            integrations_json=None, metadata=(("ftctl-name", name),), version=1,
        ),
        estimate=Estimate(training_tokens=tokens, epochs=3, cost_usd=cost),
    )


def _plan(*steps: Step) -> Plan:
    return Plan(workspace="demo", snapshot_fingerprint="f" * 64, steps=steps)


def test_plan_cost_sums_priced_models_and_names_unpriced() -> None:
    plan = _plan(_create("a", 1.25), _create("b", 2.5), _create("c", None))
    assert plan_cost(plan) == (3.75, ("c",))


def test_within_the_limit_adds_nothing() -> None:
    assert max_cost_notes(_plan(_create("a", 1.0)), 1.0) == ()


def test_above_the_limit_is_an_error_note() -> None:
    [note] = max_cost_notes(_plan(_create("a", 12.5)), 10)
    assert note.is_error and note.code == MAX_COST_CODE
    assert note.summary == "estimated training cost $12.50 is above --max-cost $10.00"


def test_unpriced_models_are_a_warning_not_a_guess() -> None:
    [note] = max_cost_notes(_plan(_create("a", None)), 10)
    assert not note.is_error and "a" in note.summary


def test_enforce_removes_the_saved_plan_of_a_failing_plan(tmp_path: Path) -> None:
    saved = tmp_path / "plan.bin"
    saved.write_text("{}", encoding="utf-8")
    run = PlanRun(plan=_plan(_create("a", 50.0)), saved_to=str(saved))
    guarded = enforce_max_cost(run, 20.0)
    assert guarded.plan is not None and guarded.plan.has_errors
    assert guarded.saved_to is None and not saved.exists()
    assert not guarded.ok


def test_enforce_keeps_a_passing_plan(tmp_path: Path) -> None:
    run = PlanRun(plan=_plan(_create("a", 5.0)), saved_to=str(tmp_path / "p.bin"))
    assert enforce_max_cost(run, 20.0) is run
    assert enforce_max_cost(run, None) is run


def test_plan_report_prints_text_and_annotations_and_writes_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    note = error("would delete protected model", subject=SourceRange(
        file="models/a.yaml", line=3, column=1))
    plan = Plan(workspace="demo", snapshot_fingerprint="f" * 64, steps=(_create("a", 1.0),),
                notes=(note,))
    out = plan_report(plan, project_root=str(tmp_path), env={
        "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path)})
    assert 'model "a"' in out  # the text plan, for the log
    assert out.endswith(
        "::error file=models/a.yaml,line=3,col=1,title=ftctl::would delete protected model\n")
    assert summary.read_text(encoding="utf-8").startswith("<!-- ftctl:plan workspace=demo -->")


def test_drift_report_annotates_each_item(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    report = DriftReport(workspace="demo", items=(
        DriftItem(kind=DriftKind.DELETED_OUT_OF_BAND, message="bot: model deleted by hand",
                  name="bot", subject="ft:gpt-4o-mini:acme:bot:1"),
    ))
    out = drift_report(report, project_root=str(tmp_path),
                       env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "::warning title=ftctl%3A drift deleted_out_of_band::bot: model deleted by hand\n" in out
    assert summary.read_text(encoding="utf-8").strip()

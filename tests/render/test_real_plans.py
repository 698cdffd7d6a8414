"""Real planner output through every renderer and a plan file: the shapes agree end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import (  # type: ignore[import-not-found]
    a_desired,
    a_job_for,
    a_manifest,
    a_settings,
    a_snapshot,
    files_for,
    without_models,
)

from reconciler import planfile
from reconciler.plan import Plan, PlanOptions
from reconciler.planner import drift
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import state_fingerprint
from reconciler.render import PLAN_FORMATS, render
from reconciler.render.drift import render_drift
from reconciler.snapshot import JobStatus


def _scenarios() -> dict[str, tuple[Plan, object]]:
    out: dict[str, tuple[Plan, object]] = {}
    desired = a_desired(a_manifest("bot", seed=1))
    out["create"] = (make_plan(desired, a_snapshot()), a_snapshot())

    old = a_desired(a_manifest("base"), a_manifest("child", parent="base"))
    parent_v1 = a_job_for(old, "base", id="ftjob-p1")
    child_v1 = a_job_for(old, "child", id="ftjob-c1", model=parent_v1.fine_tuned_model)
    new = a_desired(a_manifest("base", seed=9), a_manifest("child", parent="base"))
    snap = a_snapshot(jobs=[parent_v1, child_v1], files=files_for(new))
    out["ref_child"] = (make_plan(new, snap), snap)

    old = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 3}))
    running = a_job_for(old, "bot", id="ftjob-1", status=JobStatus.QUEUED,
                        hyperparameters={"n_epochs": 3})
    new = a_desired(a_manifest("bot", hyperparameters={"n_epochs": 5}))
    snap = a_snapshot(jobs=[running], files=files_for(new))
    out["cancel_recreate"] = (make_plan(new, snap, PlanOptions(targets=("bot",))), snap)

    desired = a_desired(a_manifest("bot"))
    job = a_job_for(desired, "bot", id="ftjob-1", status=JobStatus.RUNNING,
                    estimated_finish=1_760_000_000)
    snap = a_snapshot(jobs=[job], files=files_for(desired))
    out["in_progress"] = (make_plan(desired, snap), snap)

    gone = a_desired(a_manifest("old"))
    done = a_job_for(gone, "old", id="ftjob-o1")
    running = a_job_for(gone, "old", id="ftjob-o2", version=2, status=JobStatus.RUNNING)
    desired = a_desired(a_manifest("bot"), settings=a_settings(prune=True))
    kept = a_job_for(desired, "bot", id="ftjob-b1")
    snap = a_snapshot(jobs=[done, running, kept], files=files_for(desired))
    out["prune"] = (make_plan(desired, snap), snap)

    job = a_job_for(desired, "bot", id="ftjob-b1")
    snap = without_models(a_snapshot(jobs=[job], files=files_for(desired)),
                          job.fine_tuned_model or "")
    out["deleted_out_of_band"] = (make_plan(desired, snap), snap)
    return out


SCENARIOS = _scenarios()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_renders_and_round_trips(name: str, tmp_path: Path) -> None:
    plan, snapshot = SCENARIOS[name]
    for fmt in PLAN_FORMATS:
        assert render(plan, fmt)
    doc = json.loads(render(plan, "json"))
    assert doc["summary"] == plan.summary()
    path = tmp_path / "plan.json"
    planfile.save(plan, str(path))
    loaded = planfile.load(str(path))
    assert loaded == plan
    assert render(loaded, "json") == render(plan, "json")
    assert plan.snapshot_fingerprint == state_fingerprint(snapshot)  # type: ignore[arg-type]
    planfile.ensure_fresh(loaded, snapshot)  # type: ignore[arg-type]


def test_real_ref_child_text() -> None:
    out = render(SCENARIOS["ref_child"][0], "text")
    assert "# child must be retrained because its parent base will be retrained first" in out
    assert "-> (known after apply)  # forces retrain" in out
    assert out.rstrip().endswith("Plan: 0 to create, 2 to retrain, 2 to delete.")


def test_real_in_progress_text() -> None:
    out = render(SCENARIOS["in_progress"][0], "text")
    assert out == (
        "Note: bot: job ftjob-1 is running (ETA 2025-10-09 08:53 UTC)\n\n"
        "No changes to carry out now, but 1 model(s) do not match their manifests yet: bot "
        "(see the notes).\n"
    )


def test_real_prune_warns_in_markdown() -> None:
    out = render(SCENARIOS["prune"][0], "markdown")
    assert "> [!CAUTION]" in out
    assert "**This plan deletes 1 model version and cancels 1 job.**" in out
    assert "`old`: cancel job `ftjob-o2`" in out


def test_real_recreate_after_out_of_band_delete() -> None:
    out = render(SCENARIOS["deleted_out_of_band"][0], "text")
    assert "# bot will be created again because its model was deleted outside ftctl" in out
    assert "-> (known after apply)" in out


def test_real_drift_report_renders() -> None:
    _, snap = SCENARIOS["prune"]
    desired = a_desired(a_manifest("bot"))
    report = drift(desired, snap, today="2026-11-29")  # type: ignore[arg-type]
    assert report.has_drift
    text = render_drift(report, "text")
    assert "Orphans (no manifest declares them) (1):" in text
    assert json.loads(render_drift(report, "json"))["summary"]["orphan"] == 1
    assert render_drift(report, "markdown").startswith("<!-- ftctl:drift workspace=ws -->")

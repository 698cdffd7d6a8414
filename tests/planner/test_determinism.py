"""The planner is a pure function: same inputs, byte-identical plan, whatever the input order."""

from __future__ import annotations

import random
from dataclasses import replace

from builders import (
    a_desired,
    a_job_for,
    a_manifest,
    a_settings,
    a_snapshot,
    files_for,
)

from reconciler.plan import PlanOptions
from reconciler.planner import plan
from reconciler.snapshot import JobStatus


def _scenario() -> tuple[object, object]:
    old = a_desired(a_manifest("base"), a_manifest("child", parent="base"), a_manifest("x"),
                    a_manifest("gone"))
    jobs = [
        a_job_for(old, "base", id="ftjob-b1"),
        a_job_for(old, "child", id="ftjob-c1"),
        a_job_for(old, "x", id="ftjob-x1", status=JobStatus.RUNNING),
        a_job_for(old, "gone", id="ftjob-g1"),
    ]
    desired = a_desired(a_manifest("base", seed=1), a_manifest("child", parent="base"),
                        a_manifest("x", hyperparameters={"n_epochs": 2}), a_manifest("new"),
                        settings=a_settings(prune=True))
    return desired, a_snapshot(jobs=jobs, files=files_for(old))


def test_same_inputs_give_an_identical_plan() -> None:
    desired, snap = _scenario()
    options = PlanOptions(commit="abc", today="2026-11-29")
    first = plan(desired, snap, options)  # type: ignore[arg-type]
    second = plan(desired, snap, options)  # type: ignore[arg-type]
    assert repr(first) == repr(second)
    assert first.has_changes and len(first.changes) >= 6


def test_input_order_does_not_matter() -> None:
    desired, snap = _scenario()
    reference = repr(plan(desired, snap))  # type: ignore[arg-type]
    rng = random.Random(7)
    for _ in range(5):
        jobs = list(snap.jobs)  # type: ignore[attr-defined]
        files = list(snap.files)  # type: ignore[attr-defined]
        models = list(snap.models)  # type: ignore[attr-defined]
        manifests = list(desired.manifests)  # type: ignore[attr-defined]
        for items in (jobs, files, models, manifests):
            rng.shuffle(items)
        shuffled = replace(snap, jobs=tuple(jobs), files=tuple(files),  # type: ignore[type-var]
                           models=tuple(models))
        shuffled_desired = replace(desired, manifests=tuple(manifests))  # type: ignore[type-var]
        assert repr(plan(shuffled_desired, shuffled)) == reference

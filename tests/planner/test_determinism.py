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


_SCRIPT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("builders", sys.argv[1])
b = importlib.util.module_from_spec(spec); sys.modules["builders"] = b; spec.loader.exec_module(b)
from reconciler.planner import plan
from reconciler.planfile import dumps
old = b.a_desired(b.a_manifest("base"), b.a_manifest("child", parent="base"), b.a_manifest("z"))
state = b.simulate_apply(plan(old, b.a_snapshot()), b.a_snapshot())
new = b.a_desired(b.a_manifest("base", seed=3), b.a_manifest("child", parent="base"),
                  b.a_manifest("x", training="data/s.jsonl"),
                  b.a_manifest("y", training="data/s.jsonl"), settings=b.a_settings(prune=True))
sys.stdout.write(dumps(plan(new, state)))
"""


def test_plan_bytes_do_not_depend_on_the_hash_seed() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    builders = str(Path(__file__).parent.parent / "builders.py")
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _SCRIPT, builders], env=env,
                              capture_output=True, text=True, check=True, timeout=60)
        outputs.add(done.stdout)
    assert len(outputs) == 1 and "child/create-job" in outputs.pop()

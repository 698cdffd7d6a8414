"""Property: whatever the manifests were and are now, planning, applying the plan and planning
again converges (no changes), and the same inputs always give the same plan."""

from __future__ import annotations

from typing import Any

from builders import a_desired, a_manifest, a_settings, a_snapshot, simulate_apply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.plan import PlanOptions
from reconciler.planner import plan
from reconciler.spec import Desired, UpdatePolicy

NAMES = ("a", "b", "c", "d")


@st.composite
def desireds(draw: Any) -> Desired:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    names.sort()
    manifests = []
    for i, name in enumerate(names):
        parent = draw(st.sampled_from([None, *names[:i]]))
        manifests.append(a_manifest(
            name,
            parent=parent,
            hyperparameters={"n_epochs": draw(st.sampled_from(["auto", 1, 2]))},
            seed=draw(st.sampled_from([None, 7])),
            update=draw(st.sampled_from(list(UpdatePolicy))),
            keep_versions=draw(st.integers(min_value=1, max_value=2)),
            training=f"data/{draw(st.sampled_from(['x', 'y', name]))}.jsonl",
        ))
    return a_desired(*manifests, settings=a_settings(prune=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=desireds(), after=desireds(), retry=st.booleans())
def test_plan_apply_plan_converges(before: Desired, after: Desired, retry: bool) -> None:
    state = simulate_apply(plan(before, a_snapshot()), a_snapshot())
    assert not plan(before, state).has_changes
    first = plan(after, state, PlanOptions(retry_failed=retry))
    assert repr(first) == repr(plan(after, state, PlanOptions(retry_failed=retry)))
    assert not first.has_errors
    converged = plan(after, simulate_apply(first, state))
    assert not converged.has_changes, [(s.key, s.reason, s.changes) for s in converged.changes]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=desireds(), after=desireds(), data=st.data())
def test_converges_after_out_of_band_changes(before: Desired, after: Desired,
                                             data: st.DataObject) -> None:
    """Models deleted by hand and jobs failed or cancelled before the plan still converge."""
    from dataclasses import replace

    from reconciler.snapshot import JobStatus

    state = simulate_apply(plan(before, a_snapshot()), a_snapshot())
    models = sorted(m.id for m in state.models if m.is_fine_tuned)
    gone = set(data.draw(st.lists(st.sampled_from(models), unique=True))) if models else set()
    jobs = sorted(j.id for j in state.jobs)
    broken = set(data.draw(st.lists(st.sampled_from(jobs), unique=True, max_size=2)))
    status = data.draw(st.sampled_from([JobStatus.FAILED, JobStatus.CANCELLED]))
    state = replace(
        state,
        models=tuple(m for m in state.models if m.id not in gone),
        jobs=tuple(replace(j, status=status, fine_tuned_model=None) if j.id in broken else j
                   for j in state.jobs),
    )
    options = PlanOptions(retry_failed=True)
    first = plan(after, state, options)
    assert not first.has_errors
    converged = plan(after, simulate_apply(first, state), options)
    assert not converged.has_changes, [(s.key, s.reason, s.changes) for s in converged.changes]

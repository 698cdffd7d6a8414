"""Property: for any set of manifests (and any change to it), apply then plan shows no changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator import make_app

from .conftest import FakeClock, Project, api_for
from .test_lifecycle import apply, plan_now

# One model: (n_epochs, update, keep_versions, parent index or None, dataset topic).
model_specs = st.tuples(
    st.integers(1, 3),
    st.sampled_from(["retrain", "continue"]),
    st.integers(1, 2),
    st.one_of(st.none(), st.integers(0, 3)),
    st.sampled_from(["x", "y"]),
)
manifest_sets = st.lists(model_specs, min_size=1, max_size=4)


def write(project: Project, specs: list[tuple[int, str, int, int | None, str]]) -> None:
    for old in (project.root / "models").glob("*.yaml"):
        old.unlink()
    for i, (epochs, update, keep, parent, topic) in enumerate(specs):
        # Parents only point backwards, so {ref:} never forms a cycle.
        base = f"ref:m{parent}" if parent is not None and parent < i else "gpt-4o-mini-2024-07-18"
        project.model(f"m{i}", base=base, n_epochs=epochs, update=update, keep_versions=keep,
                      data=project.data(f"{topic}{i % 2}"))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(first=manifest_sets, second=manifest_sets)
def test_apply_then_plan_shows_no_changes(first: list, second: list) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        (root / "models").mkdir(parents=True)
        clock = FakeClock()
        api = api_for(make_app(str(Path(tmp) / "e.db"), api_key="sk-test", clock=clock,
                               speed=50.0))
        project = Project(root, prune=True)
        project.settings()
        for specs in (first, second):
            write(project, specs)
            report = apply(project, api, clock)
            assert report.ok, (report.results, report.diagnostics)
            assert not plan_now(project, api).changes

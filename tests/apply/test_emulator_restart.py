"""A project built on the emulator at one speed, then planned and applied against the same
database at another speed (`ftctl emulator serve --db .ftctl/emulator.db` runs at speed 1):
nothing it trained goes back, so nothing is cancelled, retrained or deleted."""

from __future__ import annotations

from typing import Any

from reconciler.snapshot import JobStatus

from .conftest import FakeClock, Project, api_for
from .test_lifecycle import apply, assert_converged, current


def test_a_restart_at_another_speed_changes_nothing(
    make_emulator: Any, project: Project, clock: FakeClock
) -> None:
    for name in ("alpha", "beta", "gamma"):
        project.model(name)
    fast = api_for(make_emulator(speed=5000.0))
    assert apply(project, fast, clock).ok
    serving = current(fast)
    assert set(serving) == {"alpha", "beta", "gamma"}

    slow = api_for(make_emulator(speed=0.01))  # same database file, a new emulator instance
    assert all(j.status is JobStatus.SUCCEEDED for j in slow.list_jobs())
    assert current(slow) == serving  # every model still there
    assert_converged(project, slow)
    assert apply(project, slow, clock).ok
    assert current(slow) == serving

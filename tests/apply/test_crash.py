"""Crash safety and racing applies, with real processes against an emulator on a loopback port.

`ftctl apply` runs as a subprocess and is SIGKILLed at a point of its run (when a given progress
line appears, or after a delay); applying again must converge with no duplicate upload and no
duplicate surviving job, checked against the emulator's own records. The default run kills at a
few points; the slow suite at many.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app import project as project_app
from reconciler.client.api import RemoteApi
from reconciler.client.http import HttpClient
from reconciler.emulator.server import RunningServer, start_in_background
from reconciler.observe import observe
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import META_NAME, META_VERSION, META_WORKSPACE
from reconciler.snapshot import JobStatus

from .conftest import WORKSPACE, Project, check_records

SPEED = 3000.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_in_background(str(tmp_path / "emulator.db"), api_key="sk-test",
                             speed=SPEED) as running:
        yield running


def client(server: RunningServer) -> RemoteApi:
    return RemoteApi(HttpClient(server.base_url, "sk-test", sleep=lambda s: None))


def three_models(project: Project) -> None:
    project.model("alpha")
    project.model("beta")
    project.model("child", base="ref:alpha", data=project.data("kid"))


def apply_process(project: Project, server: RunningServer) -> subprocess.Popen[str]:
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test",
           "CI": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "-C", str(project.root), "apply", "--auto-approve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )


def kill_when(proc: subprocess.Popen[str], marker: str | None, delay: float) -> bool:
    """SIGKILL once `marker` is printed (then after `delay` s), or after `delay` s when no
    marker. Returns False when the process ended before the kill point."""
    assert proc.stdout is not None
    if marker is None:
        try:
            proc.wait(timeout=delay)
            return False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    for line in proc.stdout:
        if marker in line:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    proc.wait()
    return False


def converge(project: Project, server: RunningServer, runs: int = 4) -> None:
    """Apply until a plan shows no changes (a child waits for its parent's model)."""
    for _ in range(runs):
        out, _ = apply_process(project, server).communicate(timeout=120)
        if not pending_changes(project, server):
            return
    raise AssertionError(f"no convergence after {runs} applies; last output:\n{out}")


def pending_changes(project: Project, server: RunningServer) -> list[str]:
    loaded = project_app.load(str(project.root))
    assert loaded.desired is not None
    plan = make_plan(loaded.desired, observe(client(server), loaded.desired))
    return [s.key for s in plan.changes]


def assert_no_duplicates(server: RunningServer, names: set[str]) -> None:
    check_records(client(server), names)


KILL_POINTS = [
    ("start: create alpha", 0.0),
    ("done: create", 0.05),
]
MORE_KILL_POINTS = [
    ("start: upload", 0.0),
    ("done: upload", 0.0),
    ("start: create beta", 0.0),
    ("start: create child", 0.0),
    ("done: create child", 0.0),
    ("child: ftjob", 0.0),
    ("succeeded", 0.0),
    (None, 0.6),
    (None, 0.9),
    (None, 1.2),
    (None, 1.6),
    (None, 2.2),
    (None, 3.0),
]


def _kill_then_converge(project: Project, server: RunningServer, marker: str | None,
                        delay: float) -> None:
    three_models(project)
    kill_when(apply_process(project, server), marker, delay)
    converge(project, server)
    assert_no_duplicates(server, {"alpha", "beta", "child"})


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("marker", "delay"), KILL_POINTS)
def test_sigkill_then_apply_again_converges(project: Project, server: RunningServer,
                                            marker: str | None, delay: float) -> None:
    _kill_then_converge(project, server, marker, delay)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(("marker", "delay"), MORE_KILL_POINTS)
def test_sigkill_at_many_points_then_apply_again_converges(
    project: Project, server: RunningServer, marker: str | None, delay: float
) -> None:
    _kill_then_converge(project, server, marker, delay)


@pytest.mark.timeout(240)
def test_two_racing_applies_leave_one_job_per_model_version(project: Project,
                                                           server: RunningServer) -> None:
    three_models(project)
    outputs: list[str] = []
    gate = threading.Barrier(2)

    def racer() -> None:
        gate.wait()
        out, _ = apply_process(project, server).communicate(timeout=120)
        outputs.append(out)

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    converge(project, server)
    api = client(server)
    jobs = api.list_jobs(metadata={META_WORKSPACE: WORKSPACE})
    live = Counter((j.meta(META_NAME), j.meta(META_VERSION)) for j in jobs
                   if j.status not in (JobStatus.CANCELLED, JobStatus.FAILED))
    assert all(n == 1 for n in live.values()), (live, outputs)
    assert {name for name, _ in live} == {"alpha", "beta", "child"}


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[RunningServer]:
    with start_in_background(str(tmp_path / "slow.db"), api_key="sk-test",
                             speed=1.0) as running:
        yield running


@pytest.mark.timeout(120)
def test_ctrl_c_while_waiting_leaves_training_running_and_says_how_to_resume(
    project: Project, slow_server: RunningServer
) -> None:
    project.model("alpha")
    proc = apply_process(project, slow_server)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "done: create alpha" in line:
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 130, rest
    assert "Apply interrupted" in rest and "Training continues" in rest
    assert "ftctl plan" in rest
    jobs = client(slow_server).list_jobs()
    assert [j.status.is_terminal for j in jobs] == [False]

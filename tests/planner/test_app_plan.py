"""run_plan / run_drift against the real emulator in-process (WSGI transport, fake clock).

The plan is carried out here by a few direct API calls (upload, create, cancel, delete), so
these tests pin what the planner makes of what the emulator really reports back: resolved
hyperparameters, a server-chosen seed, a model alias, content-addressed files.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from planner_projects import carry_out, write_project

from reconciler.app.plan import PlanRunOptions, run_drift, run_plan
from reconciler.client import LOCAL_API_KEY, RemoteApi, connect
from reconciler.plan import (
    Action,
    DriftKind,
    Plan,
    Reason,
)
from reconciler.spec import Settings

BASE_URL = "http://127.0.0.1/v1"  # loopback: the WSGI transport never opens a socket


OpenRemote = Callable[[Settings], Any]


@pytest.fixture
def open_remote(make_emulator: Callable[..., tuple[Any, Any]]) -> OpenRemote:
    _, transport = make_emulator(api_key=LOCAL_API_KEY)

    @contextlib.contextmanager
    def opener(settings: Settings) -> Iterator[RemoteApi]:
        api = connect(settings, {}, transport=transport, base_url=BASE_URL)
        try:
            yield api
        finally:
            api.close()

    return opener


def plan_and_apply(root: Path, open_remote: OpenRemote, fake_clock: Any) -> Plan:
    run = run_plan(str(root), open_remote=open_remote, clock=fake_clock)
    assert run.plan is not None and run.ok, run.diagnostics
    settings = Settings(workspace="e2e", root=str(root))
    with open_remote(settings) as api:
        carry_out(run.plan, api, root)
    fake_clock.advance(10_000)
    return run.plan


def test_create_then_no_changes_against_the_emulator(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    write_project(tmp_path)
    first = plan_and_apply(tmp_path, open_remote, fake_clock)
    assert [s.action for s in first.changes] == [Action.UPLOAD, Action.CREATE]
    assert first.steps[-1].estimate is not None and first.steps[-1].estimate.training_tokens
    again = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert again.plan is not None
    assert not again.plan.has_changes, [(s.key, s.changes) for s in again.plan.changes]
    assert [s.reason for s in again.plan.steps] == [Reason.UNCHANGED]
    report = run_drift(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert report.report is not None and not report.report.has_drift


def test_a_job_in_flight_is_reported_in_progress(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    write_project(tmp_path)
    run = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert run.plan is not None
    with open_remote(Settings(workspace="e2e", root=str(tmp_path))) as api:
        carry_out(run.plan, api, tmp_path)
    again = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert again.plan is not None and not again.plan.has_changes
    assert [s.reason for s in again.plan.steps] == [Reason.IN_PROGRESS]


def test_retrain_prune_and_drift_against_the_emulator(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    write_project(tmp_path, models=("bot", "old"))
    plan_and_apply(tmp_path, open_remote, fake_clock)
    write_project(tmp_path, n_epochs=2, models=("bot",), prune=True)
    run = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert run.plan is not None
    summary = run.plan.summary()
    assert (summary["retrain"], summary["delete"]) == (1, 2)  # bot v1 retired, old pruned
    (retrain,) = [s for s in run.plan.steps if s.action is Action.RETRAIN]
    assert [(c.path, c.after) for c in retrain.changes] == [
        ("method.hyperparameters.n_epochs", 2)]
    plan_and_apply(tmp_path, open_remote, fake_clock)
    settled = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert settled.plan is not None and not settled.plan.has_changes
    # A model deleted by hand is drift, and the next plan recreates it.
    settings = Settings(workspace="e2e", root=str(tmp_path))
    with open_remote(settings) as api:
        (job,) = [j for j in api.list_jobs() if j.fine_tuned_model and j.status == "succeeded"
                  and j.fine_tuned_model in {m.id for m in api.list_models()}]
        api.delete_model(job.fine_tuned_model or "")
    drift = run_drift(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert drift.report is not None
    assert [i.kind for i in drift.report.items] == [DriftKind.DELETED_OUT_OF_BAND]
    recreate = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert recreate.plan is not None
    assert [s.reason for s in recreate.plan.changes] == [Reason.DELETED_OUT_OF_BAND]


def test_plan_out_saves_a_plan_file(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    write_project(tmp_path)
    out = tmp_path / "plan.json"
    run = run_plan(str(tmp_path), options=PlanRunOptions(out=str(out)),
                   open_remote=open_remote, clock=fake_clock)
    assert run.saved_to == str(out) and out.is_file()
    from reconciler import planfile

    assert planfile.load(str(out)).steps == run.plan.steps  # type: ignore[union-attr]


def test_load_errors_come_back_without_a_plan(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    write_project(tmp_path)
    (tmp_path / "models" / "bot.yaml").write_text("apiVersion: ftctl/v1\nkind: FineTunedModel\n")
    run = run_plan(str(tmp_path), open_remote=open_remote, clock=fake_clock)
    assert run.plan is None and not run.ok and run.diagnostics


def test_the_collector_is_paused_while_planning_and_back_after(
        tmp_path: Path, open_remote: OpenRemote, fake_clock: Any) -> None:
    """run_plan pauses the cyclic garbage collector (thousands of long-lived objects) and
    always gives it back: after a plan, and after a plan whose project fails to load."""
    write_project(tmp_path)
    seen: list[bool] = []

    @contextlib.contextmanager
    def watching(settings: Settings) -> Iterator[RemoteApi]:
        seen.append(gc.isenabled())
        with open_remote(settings) as api:
            yield api

    assert gc.isenabled()
    assert run_plan(str(tmp_path), open_remote=watching, clock=fake_clock).plan is not None
    assert seen == [False] and gc.isenabled()
    (tmp_path / "ftctl.yaml").write_text("apiVersion: [\n")
    assert run_plan(str(tmp_path), open_remote=watching, clock=fake_clock).plan is None
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that paused it itself keeps it paused
        run_plan(str(tmp_path), open_remote=watching, clock=fake_clock)
        assert not gc.isenabled()
    finally:
        gc.enable()

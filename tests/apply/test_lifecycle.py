"""The whole loop through run_apply against the emulator: create, retrain, continue, drift,
prune, prevent_destroy, failing checks, saved plans; apply then plan shows no changes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler import planfile
from reconciler.app import project as project_app
from reconciler.app.apply import ApplyOptions, ApplyReport, run_apply
from reconciler.client.api import RemoteApi
from reconciler.errors import StalePlanError
from reconciler.events import StepStatus
from reconciler.observe import observe
from reconciler.plan import Action, Plan, PlanOptions
from reconciler.planner import plan as make_plan
from reconciler.planner.identity import META_NAME, META_WORKSPACE
from reconciler.snapshot import JobStatus
from reconciler.spec import Settings

from .conftest import WORKSPACE, FakeClock, Project, Recorder


def apply(project: Project, api: RemoteApi, clock: FakeClock, **options: Any) -> ApplyReport:
    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    options.setdefault("auto_approve", True)
    return run_apply(str(project.root), None, ApplyOptions(**options),
                     open_remote=open_remote, reporter=Recorder(), clock=clock,
                     sleep=clock.advance)


def plan_now(project: Project, api: RemoteApi) -> Plan:
    loaded = project_app.load(str(project.root))
    assert loaded.desired is not None, loaded.diagnostics
    return make_plan(loaded.desired, observe(api, loaded.desired), PlanOptions())


def current(api: RemoteApi) -> dict[str, str]:
    """name -> the newest succeeded job's model that still exists."""
    models = {m.id for m in api.list_models()}
    out: dict[str, tuple[int, str]] = {}
    for job in api.list_jobs(metadata={META_WORKSPACE: WORKSPACE}):
        name = job.meta(META_NAME)
        if job.status is JobStatus.SUCCEEDED and job.fine_tuned_model in models and name:
            version = int(job.meta("ftctl-version") or 0)
            if version >= out.get(name, (0, ""))[0]:
                out[name] = (version, job.fine_tuned_model)
    return {k: v[1] for k, v in out.items()}


def assert_converged(project: Project, api: RemoteApi) -> None:
    plan = plan_now(project, api)
    assert not plan.changes, [s.key for s in plan.changes]


def test_create_three_models_with_a_ref_child(project: Project, api: RemoteApi,
                                              clock: FakeClock) -> None:
    project.model("alpha")
    project.model("beta")
    project.model("child", base="ref:alpha", data=project.data("kid"))
    report = apply(project, api, clock)
    assert report.ok, report.results
    models = current(api)
    assert sorted(models) == ["alpha", "beta", "child"]
    child_job = next(j for j in api.list_jobs() if j.meta(META_NAME) == "child")
    assert child_job.model == models["alpha"]
    assert_converged(project, api)


def test_hyperparameter_change_retrains_and_retires_the_old_version(
    project: Project, api: RemoteApi, clock: FakeClock
) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", n_epochs=2)
    report = apply(project, api, clock)
    assert report.ok, report.results
    assert {s.action for s in report.plan.changes} >= {Action.RETRAIN, Action.DELETE}
    new = current(api)["alpha"]
    assert new != old
    assert old not in {m.id for m in api.list_models()}
    assert_converged(project, api)


def test_update_continue_trains_from_the_current_model(project: Project, api: RemoteApi,
                                                        clock: FakeClock) -> None:
    project.model("alpha", update="continue", keep_versions=2)
    assert apply(project, api, clock).ok
    first = current(api)["alpha"]
    project.model("alpha", update="continue", keep_versions=2, n_epochs=2)
    report = apply(project, api, clock)
    assert report.ok, report.results
    newest = max(api.list_jobs(), key=lambda j: int(j.meta("ftctl-version") or 0))
    assert newest.model == first
    assert first in {m.id for m in api.list_models()}  # keep_versions: 2
    assert_converged(project, api)


def test_a_model_deleted_behind_our_back_is_recreated(project: Project, api: RemoteApi,
                                                      clock: FakeClock) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    api.delete_model(current(api)["alpha"])
    assert "alpha" not in current(api)
    report = apply(project, api, clock)
    assert report.ok, report.results
    assert "alpha" in current(api)
    assert_converged(project, api)


def test_removed_manifest_with_prune_is_deleted(project: Project, api: RemoteApi,
                                                clock: FakeClock) -> None:
    project.prune = True
    project.settings()
    project.model("alpha")
    project.model("beta")
    assert apply(project, api, clock).ok
    beta = current(api)["beta"]
    project.remove("beta")
    report = apply(project, api, clock)
    assert report.ok, report.results
    assert beta not in {m.id for m in api.list_models()}
    assert sorted(current(api)) == ["alpha"]
    assert_converged(project, api)


def test_prevent_destroy_refuses_and_changes_nothing(project: Project, api: RemoteApi,
                                                     clock: FakeClock) -> None:
    project.model("alpha", prevent_destroy=True)
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", prevent_destroy=True, n_epochs=2)
    report = apply(project, api, clock)
    assert not report.ok
    assert any("prevent_destroy" in d.summary for d in report.diagnostics)
    assert report.results == ()
    assert current(api)["alpha"] == old
    assert len(api.list_jobs()) == 1


def test_failing_check_keeps_the_old_version_serving(project: Project, api: RemoteApi,
                                                     clock: FakeClock) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", n_epochs=2, checks=[("alpha question 2", "tracking")])
    report = apply(project, api, clock)
    assert not report.ok
    failed = [c for c in report.checks if not c.passed]
    assert [c.index for c in failed] == [1] and "tracking" in failed[0].reason
    assert old in {m.id for m in api.list_models()}
    assert any(r.status is StepStatus.SKIPPED and r.key.startswith("alpha/delete")
               for r in report.results)


def test_passing_check_lets_the_old_version_go(project: Project, api: RemoteApi,
                                               clock: FakeClock) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", n_epochs=2, checks=[("alpha question 2", "alpha answer 2")])
    report = apply(project, api, clock)
    assert report.ok, report.results
    assert [c.passed for c in report.checks] == [True]
    assert old not in {m.id for m in api.list_models()}


def test_no_wait_returns_with_jobs_in_flight_and_a_later_apply_finishes(
    project: Project, api: RemoteApi, clock: FakeClock
) -> None:
    project.model("alpha")
    report = apply(project, api, clock, wait=False)
    assert report.ok and [j.status.is_terminal for j in report.in_flight] == [False]
    clock.advance(3600)
    assert "alpha" in current(api)
    assert_converged(project, api)


def test_saved_plan_is_applied_and_a_stale_one_refused(
    project: Project, api: RemoteApi, clock: FakeClock, tmp_path: Any
) -> None:
    project.model("alpha")
    saved = str(tmp_path / "plan.json")
    planfile.save(plan_now(project, api), saved)
    assert apply(project, api, clock, planfile=saved).ok
    project.model("alpha", n_epochs=2)
    planfile.save(plan_now(project, api), saved)
    api.delete_model(current(api)["alpha"])  # the remote moves after the plan was made
    with pytest.raises(StalePlanError):
        apply(project, api, clock, planfile=saved)


def test_declined_confirmation_changes_nothing(project: Project, api: RemoteApi,
                                               clock: FakeClock) -> None:
    project.model("alpha")

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    asked: list[Plan] = []

    def decline(plan: Plan) -> bool:
        asked.append(plan)
        return False

    report = run_apply(str(project.root), None, ApplyOptions(), open_remote=open_remote,
                       reporter=Recorder(), confirm=decline, clock=clock, sleep=clock.advance)
    assert not report.approved and not report.ok and len(asked) == 1
    assert api.list_jobs() == [] and api.list_files() == []


@pytest.mark.parametrize(("expect", "ok"), [("alpha answer 2", True), ("tracking", False)])
def test_apply_resumes_jobs_left_in_flight_runs_their_checks_then_retires(
    project: Project, api: RemoteApi, clock: FakeClock, expect: str, ok: bool
) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", n_epochs=2, checks=[("alpha question 2", expect)])
    first = apply(project, api, clock, wait=False)
    assert first.ok and first.in_flight
    assert old in {m.id for m in api.list_models()}  # not retired before the checks ran
    resumed = apply(project, api, clock)
    assert [c.passed for c in resumed.checks] == [ok]
    assert resumed.ok is ok
    assert (old in {m.id for m in api.list_models()}) is not ok


@pytest.mark.parametrize(("expect", "ok"), [("alpha answer 2", True), ("tracking", False)])
def test_a_version_that_finished_unattended_is_checked_before_old_ones_retire(
    project: Project, api: RemoteApi, clock: FakeClock, expect: str, ok: bool
) -> None:
    project.model("alpha")
    assert apply(project, api, clock).ok
    old = current(api)["alpha"]
    project.model("alpha", n_epochs=2, checks=[("alpha question 2", expect)])
    assert apply(project, api, clock, wait=False).ok
    clock.advance(3600)  # trains to the end with nobody watching
    report = apply(project, api, clock)
    assert [c.passed for c in report.checks] == [ok]
    assert report.ok is ok
    assert (old in {m.id for m in api.list_models()}) is not ok
    if ok:
        assert_converged(project, api)


def test_new_work_does_not_wait_for_jobs_left_in_flight(project: Project, api: RemoteApi,
                                                        clock: FakeClock) -> None:
    project.model("alpha")
    assert apply(project, api, clock, wait=False).ok  # alpha left training
    project.model("beta")
    project.model("child", base="ref:alpha", data=project.data("kid"))
    order: list[str] = []

    class Log(Recorder):
        def step_started(self, step: Any) -> None:
            order.append(f"start {step.key}")

        def job_progress(self, progress: Any) -> None:
            if progress.job.status.is_terminal:
                order.append(f"ended {progress.name}")

    @contextlib.contextmanager
    def open_remote(settings: Settings) -> Iterator[RemoteApi]:
        yield api

    report = run_apply(str(project.root), None, ApplyOptions(auto_approve=True),
                       open_remote=open_remote, reporter=Log(), clock=clock,
                       sleep=clock.advance)
    assert report.ok, report.results
    # beta starts at once; the child (which needs alpha's model) only after alpha ended.
    assert order.index("start beta/create-job") < order.index("ended alpha")
    assert order.index("ended alpha") < order.index("start child/create-job")
    assert sorted(current(api)) == ["alpha", "beta", "child"]
    assert_converged(project, api)


def test_job_progress_alone_does_not_make_a_saved_plan_stale(
    project: Project, api: RemoteApi, clock: FakeClock, tmp_path: Any
) -> None:
    project.model("alpha")
    assert apply(project, api, clock, wait=False).ok
    project.model("beta")
    saved = str(tmp_path / "plan.json")
    planfile.save(plan_now(project, api), saved)
    before = api.list_jobs()[0].status
    clock.advance(0.6)  # alpha moves on (validating_files -> running), still in flight
    after = api.list_jobs()[0].status
    assert after is not before and not after.is_terminal
    report = apply(project, api, clock, planfile=saved)
    assert report.ok, report.results
    assert {s.name for s in report.plan.changes} == {"beta"}

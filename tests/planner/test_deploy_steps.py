"""The planner's deployment steps (planner.deploy) and the model state's view of deployments,
as pure functions of (desired, snapshot): which step, which reason, which field diffs, what it
waits for, and what a foreign deployment of the same name does (an error at its line)."""

from __future__ import annotations

import dataclasses

from builders import a_desired, a_job_for, a_manifest, a_snapshot, files_for

from reconciler.diagnostics import SourceRange
from reconciler.plan import UNKNOWN, Action, DeployModel, FromStep, Plan, Reason
from reconciler.planner import drift
from reconciler.planner import plan as make_plan
from reconciler.planner.state import build_state
from reconciler.snapshot import RemoteDeployment, Snapshot
from reconciler.spec import Deployment, DeploymentSku, Desired, Manifest

SOURCE = SourceRange(file="models/bot.yaml", line=14, column=3)


def _bot(**deployment: object) -> Manifest:
    manifest = a_manifest("bot")
    wanted = Deployment(name="bot", source=SOURCE, **deployment)  # type: ignore[arg-type]
    return dataclasses.replace(manifest, spec=dataclasses.replace(manifest.spec,
                                                                  deployment=wanted))


def _deployed(model: str, *, sku: str = "Standard", capacity: int = 1,
              name: str = "bot") -> RemoteDeployment:
    return RemoteDeployment(name=name, model=model, model_version="1", sku=sku,
                            capacity=capacity, provisioning_state="Succeeded")


def _world(desired: Desired, *deployments: RemoteDeployment, jobs: int = 1,
           ) -> tuple[Snapshot, list[str]]:
    made = [a_job_for(desired, "bot", id=f"ftjob-{n}", version=n) for n in range(1, jobs + 1)]
    snapshot = a_snapshot(jobs=made, files=files_for(desired))
    models = [str(j.fine_tuned_model) for j in made]
    return dataclasses.replace(snapshot, deployments=deployments), models


def _steps(plan: Plan, action: Action) -> list[DeployModel]:
    return [s.payload for s in plan.steps if s.action is action
            and isinstance(s.payload, DeployModel)]


def test_a_missing_deployment_of_a_passed_version_is_deployed_again() -> None:
    desired = a_desired(_bot())
    snapshot, [model] = _world(desired)
    plan = make_plan(desired, snapshot)
    [step] = [s for s in plan.steps if s.action is Action.DEPLOY]
    assert step.reason is Reason.DEPLOYMENT_MISSING and step.depends_on == ()
    assert step.payload == DeployModel(name="bot", deployment="bot", model_id=model,
                                       sku="Standard", capacity=1, job_id="ftjob-1")
    report = drift(desired, snapshot, today="2026-12-01")
    assert [(i.kind.value, i.subject) for i in report.items] == [("deployment_missing", "bot")]


def test_no_deployments_no_deployment_steps() -> None:
    desired = a_desired(_bot())
    snapshot, _ = _world(desired)
    plan = make_plan(desired, dataclasses.replace(snapshot, deployments=None))
    assert not plan.has_changes


def test_sku_and_capacity_changes_are_field_diffs() -> None:
    desired = a_desired(_bot(sku=DeploymentSku.GLOBAL_STANDARD, capacity=3))
    snapshot, [model] = _world(desired)
    plan = make_plan(desired, dataclasses.replace(snapshot, deployments=(
        _deployed(model, sku="standard"),)))
    [step] = [s for s in plan.steps if s.action is Action.DEPLOY]
    assert step.reason is Reason.DEPLOYMENT_CHANGED
    assert [(c.path, c.before, c.after) for c in step.changes] == [
        ("deployment.sku", "standard", "GlobalStandard"), ("deployment.capacity", 1, 3)]
    # The same sku in another casing is no change (ARM's casing varies).
    same = make_plan(desired, dataclasses.replace(snapshot, deployments=(
        _deployed(model, sku="globalstandard", capacity=3),)))
    assert same.converged


def test_a_retrain_moves_the_deployment_after_its_gate_then_retires() -> None:
    desired = a_desired(_bot())
    snapshot, [v1] = _world(desired)
    changed = a_desired(dataclasses.replace(_bot(), spec=dataclasses.replace(
        _bot().spec, seed=99)))
    plan = make_plan(changed, dataclasses.replace(snapshot, deployments=(_deployed(v1),)))
    by_key = {s.key: s for s in plan.steps}
    move = by_key["bot/deploy/bot"]
    assert move.reason is Reason.NEW_VERSION and move.depends_on == ("bot/create-job",)
    assert isinstance(move.payload, DeployModel)
    assert move.payload.model_id == FromStep(key="bot/create-job", field="fine_tuned_model")
    assert move.payload.current_model == v1
    assert [(c.path, c.before, c.after) for c in move.changes] == [
        ("deployment.model", v1, UNKNOWN)]
    # Retiring v1 waits for the move (Azure refuses to delete a deployed model).
    assert "bot/deploy/bot" in by_key[f"bot/delete/{v1}"].depends_on


def test_a_deployment_left_on_an_older_version_is_moved_to_the_promoted_one() -> None:
    desired = a_desired(_bot())
    snapshot, [v1, v2] = _world(desired, jobs=2)
    snapshot = dataclasses.replace(snapshot, deployments=(_deployed(v1),))
    state = build_state(desired, snapshot)["bot"]
    assert state.serving is not None and state.serving.model_id == v1  # what answers
    assert state.promoted is not None and state.promoted.model_id == v2  # what should
    plan = make_plan(desired, snapshot)
    move = next(s for s in plan.steps if s.action is Action.DEPLOY)
    assert move.reason is Reason.NEW_VERSION
    retire = next(s for s in plan.steps if s.action is Action.DELETE)
    assert retire.key == f"bot/delete/{v1}" and move.key in retire.depends_on
    report = drift(desired, snapshot, today="2026-12-01")
    assert [i.kind.value for i in report.items] == ["deployment_moved"]


def test_someone_elses_deployment_is_an_error_at_the_deployment_line() -> None:
    desired = a_desired(_bot())
    snapshot, _ = _world(desired)
    plan = make_plan(desired, dataclasses.replace(snapshot, deployments=(
        _deployed("gpt-4o-mini-2024-07-18"),)))
    assert plan.has_errors
    assert not any(s.action in (Action.DEPLOY, Action.UNDEPLOY) for s in plan.steps)
    [error] = [n for n in plan.notes if n.is_error]
    assert error.subject == SOURCE and "not a model of workspace" in error.summary


def test_a_dropped_spec_deployment_is_undeployed() -> None:
    desired = a_desired(a_manifest("bot"))
    snapshot, [model] = _world(a_desired(_bot()))
    plan = make_plan(desired, dataclasses.replace(snapshot, deployments=(_deployed(model),)))
    [step] = [s for s in plan.steps if s.action is Action.UNDEPLOY]
    assert step.key == "bot/undeploy/bot" and step.reason is Reason.DEPLOYMENT_CHANGED

"""Hosting cost in the plan: each deployment step's monthly change (estimate.hosting_estimate,
put on the steps by app.hosting.with_hosting), shown apart from the training cost in text,
Markdown and JSON, and the `--max-monthly-cost` guardrail.

The planner's deployment steps are built elsewhere; here Steps carry the real payload types
(DeployModel, RemoveDeployment) with a real snapshot of deployments and a real price table."""

from __future__ import annotations

import json

import pytest

from reconciler.app.hosting import (
    MAX_MONTHLY_COST_CODE,
    monthly_cost_notes,
    with_hosting,
    with_monthly_cost,
)
from reconciler.estimate import hosting_estimate
from reconciler.plan import (
    Action,
    CancelJob,
    DeployModel,
    FromStep,
    Plan,
    Reason,
    RemoveDeployment,
    Step,
)
from reconciler.render import render
from reconciler.snapshot import RemoteDeployment, Snapshot
from reconciler.spec import Desired, Price, Settings

BASE = "gpt-4o-mini-2024-07-18"
FT_NEW = f"{BASE}.ft-0e208cf33a6a466994aff31a08aba678"
FT_OLD = f"{BASE}.ft-11111111111111111111111111111111"
OTHER = "gpt-4.1-2025-04-14.ft-22222222222222222222222222222222"
PRICES = (Price(model="gpt-4o-mini", training_per_1m=3.0, hosting_per_hour=1.70),)


def deploy(name: str, model: str | FromStep = FT_NEW, sku: str = "Standard",
           current: str | None = None) -> Step:
    return Step(key=f"{name}/deploy/{name}", action=Action.DEPLOY, name=name,
                reason=Reason.NEW, payload=DeployModel(
                    name=name, deployment=name, model_id=model, sku=sku, capacity=1,
                    current_model=current))


def undeploy(name: str, model: str = FT_OLD) -> Step:
    return Step(key=f"{name}/undeploy/{name}", action=Action.UNDEPLOY, name=name,
                reason=Reason.ORPHANED,
                payload=RemoveDeployment(deployment=name, model_id=model))


def deployed(name: str, model: str, sku: str = "Standard") -> RemoteDeployment:
    return RemoteDeployment(name=name, model=model, model_version="1", sku=sku, capacity=1,
                            provisioning_state="Succeeded")


def priced(*steps: Step, deployments: tuple[RemoteDeployment, ...] = ()) -> Plan:
    desired = Desired(settings=Settings(workspace="ws", root="/r", prices=PRICES),
                      manifests=())
    snapshot = Snapshot(workspace="ws", deployments=deployments)
    return with_hosting(Plan(workspace="ws", snapshot_fingerprint="f", steps=steps),
                        desired, snapshot)


def monthly(step: Step) -> float | None:
    assert step.estimate is not None
    return step.estimate.monthly_hosting_usd


def test_a_deployment_bills_every_hour_of_a_730_hour_month() -> None:
    one = hosting_estimate(deploy("a").payload, PRICES)
    assert one is not None and one.monthly_hosting_usd == 1241.0  # 1.70 x 730
    assert one.cost_usd is None and one.training_tokens is None  # not a training cost


@pytest.mark.parametrize(("sku", "expected"), [
    ("Standard", 1241.0), ("GlobalStandard", 1241.0), ("globalstandard", 1241.0),
    ("DeveloperTier", 0.0),  # no hosting fee on Azure's Developer tier
    ("ProvisionedManaged", None),  # billed in throughput units: not priced
])
def test_the_sku_decides_how_hosting_is_billed(sku: str, expected: float | None) -> None:
    found = hosting_estimate(deploy("a", sku=sku).payload, PRICES)
    assert found is not None and found.monthly_hosting_usd == expected


def test_removing_moving_and_unpriced_deployments() -> None:
    plan = priced(
        undeploy("gone"),
        deploy("moved", FT_NEW, current=FT_OLD),
        deploy("upgraded", FT_NEW, sku="Standard", current=FT_OLD),
        deploy("unpriced", OTHER),
        deploy("later", FromStep(key="later/create", field="fine_tuned_model")),
        deployments=(deployed("gone", FT_OLD), deployed("moved", FT_OLD),
                     deployed("upgraded", FT_OLD, sku="DeveloperTier")),
    )
    by_name = {s.name: monthly(s) for s in plan.steps}
    assert by_name == {
        "gone": -1241.0,  # the removed deployment stops billing
        "moved": 0.0,  # a new version of the same base on the same sku costs the same
        "upgraded": 1241.0,  # from the free Developer tier to Standard
        "unpriced": None,  # gpt-4.1 has no hosting_per_hour in the table
        # A version still to be trained: no manifest names its base, so it cannot be priced.
        "later": None,
    }
    assert hosting_estimate(CancelJob(job_id="j"), PRICES) is None  # not a deployment step


def test_other_steps_are_left_alone() -> None:
    cancel = Step(key="a/cancel/j", action=Action.CANCEL, name="a", reason=Reason.ORPHANED,
                  payload=CancelJob(job_id="j"))
    plan = priced(cancel)
    assert plan.steps == (cancel,)


def test_text_markdown_and_json_show_the_monthly_change_apart_from_training() -> None:
    plan = priced(deploy("support-bot"), deploy("faq-bot"), undeploy("old-bot"),
                  deployments=(deployed("old-bot", FT_OLD),))
    text = render(plan, "text")
    assert "Monthly hosting change: +$1,241/month." in text
    assert "  # hosting: +$1,241/month" in text and "  # hosting: -$1,241/month" in text
    assert "Estimated training cost" not in text  # nothing is trained
    markdown = render(plan, "markdown")
    assert "Monthly hosting change: **+$1,241/month**." in markdown
    doc = json.loads(render(plan, "json"))
    assert doc["estimate"]["monthly_hosting_usd"] == 1241.0
    assert doc["estimate"]["hosting_unpriced"] == []
    assert {c["name"]: c["monthly_hosting_usd"] for c in doc["changes"]} == {
        "faq-bot": 1241.0, "old-bot": -1241.0, "support-bot": 1241.0}


def test_unpriced_hosting_is_named_like_unpriced_training() -> None:
    plan = priced(deploy("support-bot"), deploy("vision-bot", OTHER))
    text = render(plan, "text")
    assert ("Monthly hosting change: +$1,241/month (not counting vision-bot: hosting not "
            "priced).") in text
    assert "  # hosting: unknown (not priced)" in text
    assert json.loads(render(plan, "json"))["estimate"]["hosting_unpriced"] == ["vision-bot"]
    only = render(priced(deploy("vision-bot", OTHER)), "text")
    assert "Monthly hosting change: unknown (no hosting_per_hour" in only


def test_max_monthly_cost_refuses_a_bigger_increase_and_names_unpriced() -> None:
    plan = priced(deploy("a"), deploy("b"), undeploy("c"), deploy("d", OTHER),
                  deployments=(deployed("c", FT_OLD),))
    assert [d.code for d in monthly_cost_notes(plan, 1241.0)] == ["max_monthly_cost_unpriced"]
    notes = monthly_cost_notes(plan, 1000.0)
    assert [(d.code, d.summary) for d in notes if d.is_error] == [(
        MAX_MONTHLY_COST_CODE,
        "the plan changes the monthly hosting cost by +$1,241/month, above "
        "--max-monthly-cost $1,000.00")]
    guarded = with_monthly_cost(plan, 1000.0)
    assert guarded.has_errors and "max-monthly-cost" in render(guarded, "text")
    assert with_monthly_cost(plan, None) is plan


def test_a_plan_that_lowers_the_bill_passes_a_zero_limit() -> None:
    plan = priced(undeploy("c"), deployments=(deployed("c", FT_OLD),))
    assert monthly_cost_notes(plan, 0.0) == ()


def test_a_version_still_to_be_trained_is_priced_as_its_manifests_base_model() -> None:
    from tests.builders import a_desired, a_manifest

    desired = a_desired(a_manifest("later", model=BASE))
    desired = Desired(settings=Settings(workspace="ws", root="/r", prices=PRICES),
                      manifests=desired.manifests, datasets=desired.datasets)
    step = deploy("later", FromStep(key="later/create-job", field="fine_tuned_model"))
    plan = with_hosting(Plan(workspace="ws", snapshot_fingerprint="f", steps=(step,)),
                        desired, Snapshot(workspace="ws", deployments=()))
    assert monthly(plan.steps[0]) == 1241.0

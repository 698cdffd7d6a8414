"""Hosting cost on a finished plan: each deployment step's change of the monthly bill (from
the price table's `hosting_per_hour`), and the `--max-monthly-cost USD` guardrail.

Deployments bill every hour they exist, used or not, so the plan shows this apart from the
training cost (which `--max-cost` guards). The planner emits the deployment steps; the prices
are put on them here, after planning, with what the snapshot says about the deployments they
change. A plan above the limit gets an error note: every renderer shows it, the command exits
1 and the plan cannot be applied. Never prints.
"""

from __future__ import annotations

import dataclasses

from reconciler.diagnostics import Diagnostic, Diagnostics, error, sorted_diagnostics, warning
from reconciler.estimate import hosting_estimate
from reconciler.plan import DeployModel, Plan, RemoveDeployment, Step
from reconciler.refs import root_base_model
from reconciler.render import planview
from reconciler.render.wording import format_monthly
from reconciler.snapshot import Snapshot
from reconciler.spec import Desired, Manifest

MAX_MONTHLY_COST_CODE = "max_monthly_cost_exceeded"


def with_hosting(plan: Plan, desired: Desired, snapshot: Snapshot | None) -> Plan:
    """`plan` with every deployment step's monthly hosting change in its estimate."""
    if not any(isinstance(s.payload, DeployModel | RemoveDeployment) for s in plan.steps):
        return plan
    deployed = snapshot.deployments if snapshot is not None else None
    current = {d.name: (d.model, d.sku) for d in deployed or ()}
    index = {m.name: m for m in desired.manifests}
    steps = tuple(_priced(step, desired, current, index) for step in plan.steps)
    return dataclasses.replace(plan, steps=steps)


def _priced(step: Step, desired: Desired, current: dict[str, tuple[str, str]],
            index: dict[str, Manifest]) -> Step:
    payload = step.payload
    if not isinstance(payload, DeployModel | RemoveDeployment):
        return step
    base = root_base_model(index, step.name)
    found = hosting_estimate(payload, desired.settings.prices,
                             replaced=current.get(payload.deployment), base_model=base)
    return dataclasses.replace(step, estimate=found)


def monthly_cost_notes(plan: Plan, limit: float) -> Diagnostics:
    """The guardrail's verdict: an error when the plan raises the monthly hosting bill by more
    than `limit` USD, a warning naming the deployments it cannot price."""
    view = planview.build(plan)
    notes: list[Diagnostic] = []
    if view.total_hosting > limit:
        notes.append(error(
            f"the plan changes the monthly hosting cost by "
            f"{format_monthly(view.total_hosting)}, above --max-monthly-cost "
            f"${limit:,.2f}",
            "Deploy fewer models (spec.deployment), choose a cheaper sku (DeveloperTier has "
            "no hosting fee), or raise the limit on purpose in a reviewed change.",
            code=MAX_MONTHLY_COST_CODE,
        ))
    if view.unpriced_hosting:
        notes.append(warning(
            f"--max-monthly-cost cannot count {', '.join(view.unpriced_hosting)}: no hosting "
            "price for the deployed model",
            "Add hosting_per_hour for its base model to `prices` in ftctl.yaml "
            "(ProvisionedManaged deployments bill throughput units and are never counted).",
            code="max_monthly_cost_unpriced",
        ))
    return tuple(notes)


def with_monthly_cost(plan: Plan, limit: float | None) -> Plan:
    """`plan` with the guardrail's notes (unchanged without a limit or within it)."""
    extra = () if limit is None else monthly_cost_notes(plan, limit)
    if not extra:
        return plan
    return dataclasses.replace(plan, notes=sorted_diagnostics((*plan.notes, *extra)))

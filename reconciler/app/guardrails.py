"""Policy hooks on a finished plan: the `plan --max-cost USD` cost guardrail.

A plan above the limit gets an error note, so every renderer shows why, `Plan.has_errors` makes
the command exit 1, and the plan cannot be applied. Costs are the planner's estimates (tokens x
the price table); models without a price cannot be counted, which is said in a warning rather
than guessed. Never prints.
"""

from __future__ import annotations

import dataclasses
import os

from reconciler.app.plan import PlanRun
from reconciler.diagnostics import Diagnostic, Diagnostics, error, sorted_diagnostics, warning
from reconciler.plan import Plan
from reconciler.render import planview

MAX_COST_CODE = "max_cost_exceeded"


def plan_cost(plan: Plan) -> tuple[float, tuple[str, ...]]:
    """(estimated cost in USD of what the plan trains, names whose cost is unknown)."""
    view = planview.build(plan)
    return view.total_cost, view.unpriced


def max_cost_notes(plan: Plan, max_cost: float) -> Diagnostics:
    """The guardrail's verdict on `plan`: an error above the limit, a warning for unpriced."""
    cost, unpriced = plan_cost(plan)
    notes: list[Diagnostic] = []
    if cost > max_cost:
        notes.append(error(
            f"estimated training cost ${cost:,.2f} is above --max-cost ${max_cost:,.2f}",
            "Lower the cost (fewer epochs, a smaller dataset, or --target for fewer models), "
            "or raise the limit on purpose in a reviewed change.",
            code=MAX_COST_CODE,
        ))
    if unpriced:
        notes.append(warning(
            f"--max-cost cannot count {', '.join(unpriced)}: no price for the base model",
            "Add the base model to `prices` in ftctl.yaml so the guardrail sees its cost.",
            code="max_cost_unpriced",
        ))
    return tuple(notes)


def with_max_cost(plan: Plan, max_cost: float) -> Plan:
    """`plan` with the guardrail's notes added (unchanged when within the limit and priced)."""
    extra = max_cost_notes(plan, max_cost)
    if not extra:
        return plan
    return dataclasses.replace(plan, notes=sorted_diagnostics((*plan.notes, *extra)))


def enforce_max_cost(run: PlanRun, max_cost: float | None) -> PlanRun:
    """Apply the guardrail to a plan run. A plan that fails it is not kept as a saved plan.

    run_plan saves before the CLI sees the plan; a file for a plan that must not be applied
    would only invite `ftctl apply FILE`, so it is removed again.
    """
    if max_cost is None or run.plan is None:
        return run
    guarded = with_max_cost(run.plan, max_cost)
    if guarded is run.plan:
        return run
    saved = run.saved_to
    if guarded.has_errors and saved is not None:
        if os.path.exists(saved):
            os.remove(saved)
        saved = None
    return dataclasses.replace(run, plan=guarded, diagnostics=guarded.notes, saved_to=saved)

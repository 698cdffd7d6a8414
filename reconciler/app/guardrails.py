"""Policy hooks on a finished plan run: the `plan --max-cost USD` cost guardrail, the
`--max-monthly-cost USD` hosting guardrail (hosting.py), and Azure OpenAI's per-resource limits
(limits.py: files, their total size, training jobs, fine-tuned deployments).

A plan above a limit gets an error note, so every renderer shows why, `Plan.has_errors` makes
the command exit 1, and the plan cannot be applied. Costs are the planner's estimates (tokens x
the price table); models without a price cannot be counted, which is said in a warning rather
than guessed. Never prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

from reconciler.app.hosting import monthly_cost_notes
from reconciler.app.limits import (
    AZURE_LIMITS,
    LIMIT_CODE,
    ResourceLimits,
    ResourceUsage,
    concurrent_gates,
    limit_notes,
)
from reconciler.app.plan import PlanRun
from reconciler.app.refreshing import OpenRemote
from reconciler.client.api import RemoteApi
from reconciler.diagnostics import Diagnostic, Diagnostics, error, sorted_diagnostics, warning
from reconciler.plan import Plan
from reconciler.render import planview
from reconciler.spec import Settings

MAX_COST_CODE = "max_cost_exceeded"
__all__ = ["LIMIT_CODE", "MAX_COST_CODE", "ResourceLimits", "ResourceUsage",
           "enforce_max_cost", "enforce_max_monthly_cost", "enforce_resource_limits",
           "reading_usage"]


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
    return _with_notes(run, max_cost_notes(run.plan, max_cost))


def enforce_max_monthly_cost(run: PlanRun, limit: float | None) -> PlanRun:
    """`--max-monthly-cost`: the hosting guardrail applied to a plan run, like --max-cost."""
    if limit is None or run.plan is None:
        return run
    return _with_notes(run, monthly_cost_notes(run.plan, limit))


def _with_notes(run: PlanRun, extra: Diagnostics) -> PlanRun:
    """`run` with a guardrail's notes; a plan they fail is not kept as a saved plan."""
    if run.plan is None or not extra:
        return run
    guarded = dataclasses.replace(run.plan, notes=sorted_diagnostics((*run.plan.notes, *extra)))
    saved = run.saved_to
    if guarded.has_errors and saved is not None:
        if os.path.exists(saved):
            os.remove(saved)
        saved = None
    return dataclasses.replace(run, plan=guarded, diagnostics=guarded.notes, saved_to=saved)


# -- Azure OpenAI's per-resource limits (limits.py) -----------------------------------------


def reading_usage(open_remote: OpenRemote, usage: ResourceUsage) -> OpenRemote:
    """open_remote that, for Azure, also reads `usage` before the connection closes (after the
    plan observed the remote, before anything could be written)."""

    @contextlib.contextmanager
    def opened(settings: Settings) -> Iterator[RemoteApi]:
        with open_remote(settings) as api:
            yield api
            if settings.provider.speaks_azure:
                usage.read(api)

    return opened


def enforce_resource_limits(run: PlanRun, usage: ResourceUsage,
                            limits: ResourceLimits = AZURE_LIMITS) -> PlanRun:
    """The limits' verdict added to a plan run (unchanged when not Azure or within them)."""
    if run.plan is None or not usage.observed:
        return run
    gates = concurrent_gates(run.plan, run.desired) if run.desired is not None else 0
    return _with_notes(run, limit_notes(run.plan, usage, limits, gates=gates))

"""`ftctl plan`: Show what apply would change, with field diffs, token counts and cost.

The plan goes to stdout in the chosen format; problems loading the project, and errors that
block the plan (prevent_destroy, --max-cost, --max-monthly-cost, Azure's per-resource
limits), go to stderr as
FILE:LINE:COL diagnostics (as annotations on stdout too with --format github; JSON and
Markdown also carry the plan's errors). Exit codes: 0 ok, 1 error (including a plan that
cannot be carried out); with --detailed-exitcode, 2 until the remote matches the manifests.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import click

from reconciler.app import github
from reconciler.app.guardrails import (
    ResourceUsage,
    enforce_max_cost,
    enforce_max_monthly_cost,
    enforce_resource_limits,
    reading_usage,
)
from reconciler.app.plan import PlanRunOptions, run_plan
from reconciler.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_diagnostics, echo_problems
from reconciler.render import render
from reconciler.render.wording import error_line

FORMATS = ("text", "json", "markdown", "github")


def use_color(fmt: str) -> bool:
    """Colour only for text on a terminal, and never when NO_COLOR is set."""
    return fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


@click.command("plan")
@click.option("--out", "out", metavar="FILE", type=click.Path(dir_okay=False),
              help="Save the plan for `ftctl apply FILE` (refused later if the remote moved).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format; github: text plus annotations, Markdown to the step summary.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when the remote matches the manifests, 2 when it does not yet "
                   "(changes, jobs in flight, failed checks), 1 on error.")
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="Only this model and what it depends on. Repeatable.")
@click.option("--retry-failed", is_flag=True,
              help="Plan a new job where the latest one failed with the same spec.")
@click.option("--max-cost", "max_cost", type=click.FloatRange(min=0), default=None,
              metavar="USD", help="Fail the plan when its estimated training cost is higher.")
@click.option("--max-monthly-cost", "max_monthly_cost", type=click.FloatRange(min=0),
              default=None, metavar="USD",
              help="Fail the plan when it raises the monthly hosting cost of deployments "
                   "(Azure) by more.")
@handled
def plan(
    out: str | None, fmt: str, detailed_exitcode: bool, targets: tuple[str, ...],
    retry_failed: bool, max_cost: float | None, max_monthly_cost: float | None,
) -> int:
    """Show what apply would change, with field diffs, token counts and cost."""
    opts = global_options()
    options = PlanRunOptions(targets=targets, retry_failed=retry_failed, out=out)
    usage = ResourceUsage()  # Azure's per-resource limits; read only for Azure providers
    run = run_plan(opts.directory, opts.config, options,
                   open_remote=reading_usage(open_remote, usage))
    run = enforce_max_cost(run, max_cost)
    run = enforce_max_monthly_cost(run, max_monthly_cost)
    run = enforce_resource_limits(run, usage)
    root = os.path.abspath(opts.directory)
    if run.plan is None:
        echo_diagnostics(run.diagnostics, run.sources, fmt=fmt, root=root, heading="ftctl plan")
        return EXIT_ERROR
    errors = tuple(d for d in run.plan.notes if d.is_error)
    if fmt == "github":
        click.echo(github.plan_report(run.plan, project_root=root), nl=False)
    elif fmt == "text":
        # Errors are diagnostics, printed once on stderr at their place; the plan says it has
        # them. JSON and Markdown are documents for tools and reviewers: they keep them too.
        shown = dataclasses.replace(run.plan, notes=tuple(d for d in run.plan.notes
                                                          if not d.is_error))
        click.echo(render(shown, fmt, color=use_color(fmt)), nl=False)
        if errors:
            click.echo(error_line(errors))
    else:
        click.echo(render(run.plan, fmt, color=use_color(fmt)), nl=False)
    if errors:
        echo_problems(errors, run.sources)
        return EXIT_ERROR
    if run.saved_to:
        click.echo(f"Saved the plan to {run.saved_to}; apply it with "
                   f"`ftctl apply {run.saved_to}`.", err=True)
    if detailed_exitcode and not run.plan.converged:
        return EXIT_CHANGES
    return EXIT_OK

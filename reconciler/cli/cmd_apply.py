"""`ftctl apply`: carry out a plan: upload, train, wait, check, and retire old versions.

A saved plan (`ftctl apply FILE`) is the approval. Otherwise, without --auto-approve, the
plan is shown and confirmed on a terminal; with no terminal (CI) apply refuses rather than
guess. Ctrl-C while following jobs stops following only: training
continues remotely, and the summary says how to resume.
"""

from __future__ import annotations

import sys

import click

from reconciler.app.apply import ApplyOptions, ApplyReport, run_apply
from reconciler.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    global_options,
    handled,
)
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_problems
from reconciler.console import format_summary, make_reporter
from reconciler.diagnostics import Diagnostic
from reconciler.plan import Plan
from reconciler.render import render

NO_TERMINAL = (
    "apply needs confirmation, but stdin is not a terminal. Save the plan with "
    "`ftctl plan --out FILE`, review it, and carry out exactly that plan with "
    "`ftctl apply FILE` (a saved plan is the approval), or run `ftctl apply --auto-approve`."
)


@click.command("apply")
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow jobs to the end, run checks and retire old versions; "
    "--no-wait returns once jobs are created.",
)
@click.option("--target", "targets", multiple=True, metavar="NAME",
              help="Only these models (and what they need). Repeatable.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Steps run at once (default: concurrency in ftctl.yaml).")
@click.option("--retry-failed", is_flag=True,
              help="Create a new job where the latest one failed with the same spec.")
@click.option("--max-monthly-cost", "max_monthly_cost", type=click.FloatRange(min=0),
              default=None, metavar="USD",
              help="Refuse a plan that raises the monthly hosting cost of deployments "
                   "(Azure) by more; nothing is changed.")
@handled
def apply(
    planfile: str | None,
    auto_approve: bool,
    wait: bool,
    targets: tuple[str, ...],
    concurrency: int | None,
    retry_failed: bool,
    max_monthly_cost: float | None,
) -> int:
    """Carry out a plan: upload, train, wait, check, and retire old versions.

    With PLANFILE (from `ftctl plan --out`), carry out exactly that plan without asking again
    (the reviewed plan is the approval), refusing it when the remote has changed since. Without
    it, the plan is confirmed on a terminal, or --auto-approve is needed. Exit 0 when
    everything succeeded, 1 on any failure, 130 when interrupted.
    """
    if planfile is not None and (targets or retry_failed):
        raise click.UsageError("--target and --retry-failed shape a new plan; "
                               "a saved plan already has them")
    opts = global_options()
    options = ApplyOptions(
        # Reviewing a saved plan is the approval (as in Terraform): it is not asked again.
        planfile=planfile, auto_approve=auto_approve or planfile is not None, wait=wait,
        targets=targets,
        concurrency=concurrency, retry_failed=retry_failed, max_monthly_cost=max_monthly_cost,
    )
    shown = _Shown()
    with make_reporter(sys.stdout) as reporter:
        report = run_apply(opts.directory, opts.config, options, open_remote=open_remote,
                           reporter=reporter, confirm=shown.confirm, announce=shown.announce)
    return _finish(report, shown)


class _Shown:
    """Shows the plan before it runs and remembers its notes, which are then not printed a
    second time with the other diagnostics."""

    def __init__(self) -> None:
        self.notes: set[Diagnostic] = set()
        self.no_terminal = False

    def announce(self, plan: Plan) -> None:
        """With --auto-approve the plan is still shown (as Terraform does), not asked about."""
        click.echo(render(plan, "text", color=sys.stdout.isatty()), nl=False)
        click.echo()
        self.notes.update(plan.notes)

    def confirm(self, plan: Plan) -> bool:
        if not sys.stdin.isatty():
            self.no_terminal = True  # asked only once the settings loaded and there is work
            return False
        self.announce(plan)
        return click.confirm("Do you want to perform these actions?", default=False)


def _finish(report: ApplyReport, shown: _Shown) -> int:
    unseen = tuple(d for d in report.diagnostics if d not in shown.notes)
    if unseen:
        echo_problems(unseen, report.sources)
    if not report.approved:
        if shown.no_terminal:
            click.echo(f"Error: {NO_TERMINAL}", err=True)
        else:
            click.echo("Apply cancelled: nothing was changed.", err=True)
        return EXIT_ERROR
    if report.plan is None:
        return EXIT_ERROR
    click.echo(format_summary(report), nl=False)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_ERROR

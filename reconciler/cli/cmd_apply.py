"""`ftctl apply`: carry out a plan: upload, train, wait, check, and retire old versions.

Without --auto-approve the plan is shown and confirmed on a terminal; with no terminal (CI)
apply refuses rather than guess. Ctrl-C while following jobs stops following only: training
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
from reconciler.console import format_summary, make_reporter
from reconciler.plan import Plan
from reconciler.render import render
from reconciler.render.diagnostics import format_text

NO_TERMINAL = (
    "apply needs confirmation, but stdin is not a terminal. Review the plan with `ftctl plan` "
    "(or save it with `ftctl plan --out FILE`), then run `ftctl apply --auto-approve` "
    "(or `ftctl apply FILE`)."
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
@handled
def apply(
    planfile: str | None,
    auto_approve: bool,
    wait: bool,
    targets: tuple[str, ...],
    concurrency: int | None,
    retry_failed: bool,
) -> int:
    """Carry out a plan: upload, train, wait, check, and retire old versions.

    With PLANFILE (from `ftctl plan --out`), carry out exactly that plan, refusing it when the
    remote has changed since. Exit 0 when everything succeeded, 1 on any failure, 130 when
    interrupted.
    """
    if planfile is not None and (targets or retry_failed):
        raise click.UsageError("--target and --retry-failed shape a new plan; "
                               "a saved plan already has them")
    if not auto_approve and not sys.stdin.isatty():
        click.echo(f"Error: {NO_TERMINAL}", err=True)
        return EXIT_ERROR
    opts = global_options()
    options = ApplyOptions(
        planfile=planfile, auto_approve=auto_approve, wait=wait, targets=targets,
        concurrency=concurrency, retry_failed=retry_failed,
    )
    with make_reporter(sys.stdout) as reporter:
        report = run_apply(opts.directory, opts.config, options, open_remote=open_remote,
                           reporter=reporter, confirm=_confirm, announce=_announce)
    return _finish(report)


def _announce(plan: Plan) -> None:
    """With --auto-approve the plan is still shown (as Terraform does), just not asked about."""
    click.echo(render(plan, "text", color=sys.stdout.isatty()), nl=False)
    click.echo()


def _confirm(plan: Plan) -> bool:
    _announce(plan)
    return click.confirm("Do you want to perform these actions?", default=False)


def _finish(report: ApplyReport) -> int:
    if report.diagnostics:
        click.echo(format_text(report.diagnostics, report.sources), err=True, nl=False)
    if not report.approved:
        click.echo("Apply cancelled: nothing was changed.", err=True)
        return EXIT_ERROR
    if report.plan is None:
        return EXIT_ERROR
    click.echo(format_summary(report), nl=False)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.ok else EXIT_ERROR

"""`ftctl eval`: score a version of a model on its eval set against the version it would
replace, and print the metric table (metric, serving, candidate, delta) with the verdict.

Exit 0 when the promotion rule passes, 1 when it refuses (or on any error), so a CI job can
gate on it. The table goes to stdout; progress to stderr (a bar on a terminal).
"""

from __future__ import annotations

import sys

import click

from reconciler.app.evaluate import EvalSetInvalid, run_eval
from reconciler.cli.cmd_jobs import operation, workspace
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, handled
from reconciler.cli.reporting import echo_problems
from reconciler.console import make_reporter
from reconciler.render.evaluation import EVAL_FORMATS, render_evaluation


@click.command("eval")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=0), default=None,
              help="Evaluate this version of NAME instead of the current one.")
@click.option("--format", "fmt", type=click.Choice(EVAL_FORMATS), default="text",
              show_default=True, help="text for people, markdown for PR comments, json for "
              "tools.")
@handled
@operation
def eval_(name: str, version: int | None, fmt: str) -> int:
    """Evaluate NAME's current version (or --version N) against the version it replaces.

    Both answer every example of spec.evaluation.dataset; each grader's mean score is a metric.
    Scores are cached in .ftctl/cache, so a re-run asks only what was not scored yet. Exit 0
    when the promotion rule (spec.evaluation.promote) passes, 1 when it refuses.
    """
    with workspace() as ws, make_reporter(sys.stderr) as reporter:
        try:
            outcome = run_eval(ws, name, version=version, reporter=reporter)
        except EvalSetInvalid as exc:
            echo_problems(exc.diagnostics)
            raise
    click.echo(render_evaluation(outcome, fmt), nl=False)
    return EXIT_OK if outcome.passed else EXIT_ERROR

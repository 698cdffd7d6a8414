"""`ftctl follow`: re-attach to a running job's progress and events (after Ctrl-C, from another
terminal, in CI), with apply --wait's display.

Progress goes to stderr and the resulting fine-tuned model id alone to stdout, so a script can
capture it: `MODEL=$(ftctl follow support-bot)`. Exit 0 succeeded, 1 failed or cancelled, 130
interrupted (the job keeps training).
"""

from __future__ import annotations

import sys

import click

from reconciler.app.operate import FollowResult, Pacing
from reconciler.app.operate import follow as follow_job
from reconciler.cli.cmd_jobs import POLL, operation, outcome_line, workspace
from reconciler.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, handled
from reconciler.console import make_reporter


@click.command("follow")
@click.argument("ref", metavar="NAME|JOB_ID")
@POLL
@handled
@operation
def follow(ref: str, poll_interval: float) -> int:
    """Follow a job to its end: NAME's newest job in flight (else its latest), or JOB_ID.

    Prints the resulting fine-tuned model id. Exit 0 when the job succeeded, 1 when it failed
    or was cancelled, 130 when interrupted (training continues).
    """
    with workspace() as ws, make_reporter(sys.stderr) as reporter:
        result = follow_job(ws, ref, reporter, Pacing(poll_interval=poll_interval))
    return finish(result, ref)


def finish(result: FollowResult, ref: str) -> int:
    if result.interrupted:
        click.echo(f"Stopped following {result.job.id}; training continues on the provider. "
                   f"Run `ftctl follow {ref}` to re-attach.", err=True)
        return EXIT_INTERRUPTED
    click.echo(outcome_line(result.name, result.job), err=True)
    if result.succeeded and result.job.fine_tuned_model:
        click.echo(result.job.fine_tuned_model)
        return EXIT_OK
    return EXIT_ERROR

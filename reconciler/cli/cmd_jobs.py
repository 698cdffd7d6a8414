"""`ftctl jobs list|get|events|cancel`: day-to-day job operations by manifest name or id.

Also home of what the operate commands (follow, jobs, try, models) share on the command line:
opening the workspace with the project's diagnostics printed like plan prints them, asking for
confirmation (refused without a terminal unless --yes), and plain text tables.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from reconciler.app import jobs as app_jobs
from reconciler.app.operate import InvalidProject, Owner, Pacing, Workspace, open_workspace
from reconciler.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, global_options, handled
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_problems
from reconciler.snapshot import JobEvent, JobStatus, RemoteJob
from reconciler.timestamps import utc_minute, utc_second
from reconciler.waiting import DEFAULT_POLL_INTERVAL

F = TypeVar("F", bound=Callable[..., Any])

FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="text for people, json for tools.")
YES = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
POLL = click.option("--poll-interval", type=click.FloatRange(min=0.0),
                    default=DEFAULT_POLL_INTERVAL, hidden=True)


# -- shared by the operate commands ----------------------------------------------------------


def operation(func: F) -> F:
    """Inside `handled`: a project that does not load prints its diagnostics and exits 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            return int(func(*args, **kwargs))
        except InvalidProject as exc:
            echo_problems(exc.diagnostics, exc.sources)
            return EXIT_ERROR

    return wrapper  # type: ignore[return-value]


@contextmanager
def workspace() -> Iterator[Workspace]:
    opts = global_options()
    with open_workspace(opts.directory, opts.config, open_remote=open_remote) as ws:
        yield ws


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def confirmed(question: str, yes: bool, flag_hint: str) -> bool:
    """--yes, or a "y" on a terminal. Without a terminal (CI) refuse rather than guess."""
    if yes:
        return True
    if not stdin_is_terminal():
        click.echo(f"Error: {flag_hint} needs confirmation, but stdin is not a terminal; "
                   "rerun with --yes.", err=True)
        return False
    if click.confirm(question, default=False, err=True):
        return True
    click.echo("Nothing was changed.", err=True)
    return False


def when(ts: int | None) -> str:
    return utc_minute(ts) if ts else "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in (headers, *rows)]
    return "\n".join(lines) + "\n"


def owner_text(owner: Owner) -> str:
    if owner.workspace is None:
        return "-"
    label = f"{owner.name or '?'}" + (f" v{owner.version}" if owner.version else "")
    if not owner.managed:
        return f"{label} (workspace {owner.workspace})"
    return label if owner.manifest else f"{label} (orphaned)"


def dump(value: object) -> None:
    click.echo(json.dumps(value, indent=2))


# -- jobs ------------------------------------------------------------------------------------


@click.group("jobs")
def jobs() -> None:
    """List, inspect and cancel fine-tuning jobs (by manifest name or job id)."""


@jobs.command("list")
@click.option("--all", "all_jobs", is_flag=True,
              help="Every job in the organization, marking which this workspace manages.")
@FORMAT
@handled
@operation
def list_(all_jobs: bool, fmt: str) -> int:
    """List this workspace's jobs, newest first (--all: every job in the organization)."""
    with workspace() as ws:
        rows = app_jobs.list_jobs(ws, all_jobs=all_jobs)
    if fmt == "json":
        dump({"jobs": [r.to_json() for r in rows]})
    elif not rows:
        click.echo("No jobs.")
    else:
        click.echo(table(
            ("JOB", "STATUS", "MANAGED BY", "BASE MODEL", "FINE-TUNED MODEL", "CREATED"),
            [(r.job.id, r.job.status.value, owner_text(r.owner), r.job.model,
              r.job.fine_tuned_model or "-", when(r.job.created_at)) for r in rows],
        ), nl=False)
    return EXIT_OK


@jobs.command("get")
@click.argument("ref", metavar="NAME|JOB_ID")
@FORMAT
@handled
@operation
def get(ref: str, fmt: str) -> int:
    """Show one job (a name means its newest job in flight, else its latest)."""
    with workspace() as ws:
        row = app_jobs.get(ws, ref)
    if fmt == "json":
        dump(row.to_json())
    else:
        click.echo(format_job(row), nl=False)
    return EXIT_OK


def format_job(row: app_jobs.JobRow) -> str:
    job = row.job
    pairs = [
        ("id", job.id), ("status", job.status.value), ("managed by", owner_text(row.owner)),
        ("model", job.model), ("fine-tuned model", job.fine_tuned_model or "-"),
        ("method", job.method_type),
        ("hyperparameters", ", ".join(f"{k}={v}" for k, v in job.hyperparameters) or "-"),
        ("training file", job.training_file), ("validation file", job.validation_file or "-"),
        ("suffix", job.suffix or "-"), ("seed", "-" if job.seed is None else str(job.seed)),
        ("created", when(job.created_at)), ("finished", when(job.finished_at)),
        ("trained tokens", "-" if job.trained_tokens is None else str(job.trained_tokens)),
    ]
    if job.estimated_finish and not job.status.is_terminal:
        pairs.append(("estimated finish", when(job.estimated_finish)))
    if job.error_message or job.error_code:
        pairs.append(("error", f"{job.error_code or ''}: {job.error_message or ''}".strip(": ")))
    pairs.extend((f"metadata {k}", v) for k, v in job.metadata)
    width = max(len(k) for k, _ in pairs)
    return "".join(f"{k + ':':<{width + 1}} {v}\n" for k, v in pairs)


@jobs.command("events")
@click.argument("ref", metavar="NAME|JOB_ID")
@click.option("--follow", "-f", "follow_", is_flag=True,
              help="Keep printing new events until the job ends (exit 0 succeeded, 1 not).")
@FORMAT
@POLL
@handled
@operation
def events(ref: str, follow_: bool, fmt: str, poll_interval: float) -> int:
    """Print a job's events, oldest first. With --format json and --follow: one JSON per line."""
    with workspace() as ws:
        if not follow_:
            job, found = app_jobs.events(ws, ref)
            if fmt == "json":
                dump({"job": job.id, "status": job.status.value,
                      "events": [app_jobs.event_json(e) for e in found]})
            else:
                for event in found:
                    click.echo(event_line(event))
            return EXIT_OK
        job = app_jobs.get(ws, ref).job
        printer = _json_line if fmt == "json" else (lambda e: click.echo(event_line(e)))
        try:
            ended = app_jobs.stream_events(ws, job.id, printer, Pacing(poll_interval=poll_interval))
        except KeyboardInterrupt:
            click.echo("Stopped following; the job keeps running.", err=True)
            return EXIT_INTERRUPTED
    click.echo(f"{ended.id} {ended.status.value}.", err=True)
    return EXIT_OK if ended.status is JobStatus.SUCCEEDED else EXIT_ERROR


def event_line(event: JobEvent) -> str:
    return f"{utc_second(event.created_at)}  {event.level:<5}  {event.message}"


def _json_line(event: JobEvent) -> None:
    click.echo(json.dumps(app_jobs.event_json(event), separators=(",", ":")))


@jobs.command("cancel")
@click.argument("ref", metavar="NAME|JOB_ID")
@YES
@FORMAT
@handled
@operation
def cancel(ref: str, yes: bool, fmt: str) -> int:
    """Cancel a job (a name: its jobs still in flight). Asks first unless --yes."""
    with workspace() as ws:
        target = app_jobs.cancel_target(ws, ref)
        listed = ", ".join(f"{j.id} ({j.status.value})" for j in target.jobs)
        whose = f" of {target.owner.name}" if target.owner.name else ""
        if not confirmed(f"Cancel {len(target.jobs)} job(s){whose}: {listed}?", yes,
                         "jobs cancel"):
            return EXIT_ERROR
        done = app_jobs.cancel(ws, target)
    note = restart_note(target) if target.restarts_with_manifest else None
    if fmt == "json":
        dump({"cancelled": [app_jobs.job_json(j) for j in done], "warning": note})
    else:
        for job in done:
            click.echo(f"Cancelled {job.id}{whose} (now {job.status.value}).")
    if note and fmt != "json":
        click.echo(f"Warning: {note}", err=True)
    return EXIT_OK


def restart_note(target: app_jobs.CancelTarget) -> str:
    """What the next apply does about a cancelled job its manifest still asks for.

    A cancelled latest job is not a cost loop like a failed one: the planner starts it again.
    """
    name = target.owner.name
    return (
        f"the manifest of {name} still asks for this version, so the next `ftctl apply` starts "
        f"the job again unless the manifest changes. Remove the manifest of {name} to stop "
        f"managing it."
    )


def outcome_line(name: str, job: RemoteJob) -> str:
    line = f"{name}: {job.id} {job.status.value}"
    if job.error_message:
        line += f": {job.error_message}"
    return line + "."

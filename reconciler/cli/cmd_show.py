"""`ftctl show`: versions, job and model ids, statuses, dates, tokens and commit per model."""

from __future__ import annotations

import json

import click

from reconciler.app.inspect import ModelInfo, VersionInfo, run_show
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.cli.provider import open_remote
from reconciler.cli.reporting import echo_problems
from reconciler.diagnostics import has_errors
from reconciler.timestamps import utc_minute


@click.command("show")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@handled
def show(name: str | None, fmt: str) -> int:
    """Show every managed model (or NAME): its versions, ids, statuses and origin."""
    opts = global_options()
    result = run_show(opts.directory, opts.config, open_remote=open_remote,
                      names=(name,) if name else ())
    if has_errors(result.diagnostics):
        echo_problems(result.diagnostics)
        return EXIT_ERROR
    if fmt == "json":
        click.echo(json.dumps({"models": [m.to_json() for m in result.models]}, indent=2))
    else:
        click.echo(format_models(result.models), nl=False)
    return EXIT_OK


def format_models(models: tuple[ModelInfo, ...]) -> str:
    if not models:
        return "No models.\n"
    lines: list[str] = []
    for model in models:
        tag = "" if model.managed else "  (no manifest: orphaned)"
        if model.served_by_deployment:
            where = f"deployment {model.deployment}" if model.deployment \
                else "deployment missing"
            tag = f"  ({where}){tag}"
        lines.append(f"{model.name}: {model.current_model or 'no serving model'}{tag}")
        if not model.versions:
            lines.append("  no versions yet")
        lines.extend(_version_line(v) for v in model.versions)
    return "\n".join(lines) + "\n"


def _version_line(v: VersionInfo) -> str:
    parts = [f"  v{v.version}", v.job_id, v.status]
    if v.model_id:
        parts.append(v.model_id + ("" if v.model_exists else " (deleted)"))
    parts.append(f"created {_when(v.created_at)}")
    if v.finished_at:
        parts.append(f"finished {_when(v.finished_at)}")
    if v.trained_tokens is not None:
        parts.append(f"{v.trained_tokens} tokens")
    if v.commit:
        parts.append(f"commit {v.commit[:12]}")
    if v.metrics:  # what its evaluation measured, from the recorded verdict
        parts.append(", ".join(f"{grader} {score:.4f}" for grader, score in v.metrics))
    if v.status == "succeeded" and v.verdict in ("checks failed", "evaluation refused",
                                                 "not checked"):
        parts.append(f"({v.verdict})")
    if v.current:
        parts.append("(current)")
    return "  ".join(parts)


def _when(ts: int) -> str:
    return utc_minute(ts)

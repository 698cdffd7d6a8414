"""`ftctl data check|stats|convert`: dataset validation, token counts and cost, conversion.

Thin: options -> reconciler.datasets -> text or JSON. Diagnostics print as
`FILE:LINE: error|warning|info: CODE: message` on stderr (text) or as JSON on stdout; the exit
code is 1 whenever any file has an error.
"""

from __future__ import annotations

import os

import click
import orjson

from reconciler.app.datacheck import DEFAULT_ENCODING, Context, context
from reconciler.cli.common import EXIT_ERROR, EXIT_OK, global_options, handled
from reconciler.datasets import Options, Report, validate_file
from reconciler.datasets.convert import Fixes, convert
from reconciler.datasets.issues import IssueSink
from reconciler.datasets.markdown import markdown_report
from reconciler.datasets.stats import Costing, format_text, summarize
from reconciler.diagnostics import Diagnostic, Severity, SourceRange, sorted_diagnostics
from reconciler.render.diagnostics import format_text as render_diagnostics

DEFAULT_STATS_MODEL = "gpt-4o-mini-2024-07-18"

_method = click.option(
    "--method", type=click.Choice(["supervised", "dpo", "reinforcement"]), default=None,
    help="Fine-tuning method the file is for (default: inferred from the first example).",
)
_fmt = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                    show_default=True)
_jobs = click.option("--jobs", type=click.IntRange(min=1), default=None,
                     help="Worker processes (default: all cores for files over 32 MiB).")


@click.group("data")
def data() -> None:
    """Check, measure and convert training datasets."""


@data.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_method
@click.option("--model", metavar="BASE", default=None,
              help="Base model: picks the tokenizer, the per-example limit, the format and the "
                   "price (default: the base model of the manifest that uses the file, else "
                   "o200k_base tokens).")
@click.option("--no-tokens", is_flag=True, help="Structure only: skip token counting.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors for this run.")
@click.option("--max-per-code", type=click.IntRange(min=1), default=20, show_default=True,
              help="Issues shown per code (the rest are counted).")
@_jobs
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="markdown: a report for a pull-request comment.")
@handled
def check(files: tuple[str, ...], method: str | None, model: str | None, no_tokens: bool,
          strict: bool, max_per_code: int, jobs: int | None, fmt: str) -> int:
    """Validate dataset files line by line (every problem, with its line number), with token
    counts and the estimated cost of training on them."""
    opts = global_options()
    ctx = context(opts.settings_path, opts.directory, opts.config, strict=strict)
    if ctx.diagnostics:  # a misspelt rule in ftctl.yaml: nothing is checked under wrong rules
        click.echo(render_diagnostics(ctx.diagnostics), err=True)
        return EXIT_ERROR
    checked = [_check_one(path, ctx, method, model, no_tokens, max_per_code, jobs)
               for path in files]
    if fmt == "json":
        body = {"files": [_report_json(r) | c.to_json() for r, c in checked]}
        click.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    elif fmt == "markdown":
        click.echo(markdown_report([(r, c.summary()) for r, c in checked]))
    else:
        for report, cost in checked:
            if report.diagnostics:
                click.echo(format_diagnostics(report.diagnostics), err=True)
            click.echo(_summary(report, cost))
    return EXIT_ERROR if any(r.has_errors for r, _ in checked) else EXIT_OK


def _check_one(path: str, ctx: Context, method: str | None, model: str | None, no_tokens: bool,
               cap: int, jobs: int | None) -> tuple[Report, Costing]:
    """Validate one file under the project's rules, with the model the job would use."""
    use = ctx.use_of(path) if model is None else None
    base = model or (use.base_model if use else None)
    source = ("--model" if model else f"base model of {use.manifest}" if base and use
              else "default; pass --model")
    options = Options(method=method or (use.method if use else None), model=base,
                      tokens=not no_tokens, jobs=jobs, cap=cap, levels=ctx.levels,
                      encoding=DEFAULT_ENCODING)
    report = _validate(path, options)
    stats = summarize(report, model=base or "", n_epochs="auto", prices=ctx.prices)
    return report, Costing(model=base, source=source, stats=stats, in_project=ctx.in_project)


@data.command("stats")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_method
@click.option("--model", metavar="BASE", default=DEFAULT_STATS_MODEL, show_default=True,
              help="Base model: tokenizer, per-example limit and price.")
@click.option("--n-epochs", default="auto", show_default=True,
              help="Epochs to estimate for (a number, or auto for the platform's default rule).")
@_jobs
@_fmt
@handled
def stats(files: tuple[str, ...], method: str | None, model: str, n_epochs: str,
          jobs: int | None, fmt: str) -> int:
    """Examples, tokens (total, min/median/max), epochs, estimated cost, length histogram."""
    epochs: object = int(n_epochs) if n_epochs.isdigit() else "auto"
    opts = global_options()
    ctx = context(opts.settings_path, opts.directory, opts.config)
    if ctx.diagnostics:
        click.echo(render_diagnostics(ctx.diagnostics), err=True)
        return EXIT_ERROR
    prices = ctx.prices
    options = Options(method=method, model=model, jobs=jobs, levels=ctx.levels)
    reports = [_validate(path, options) for path in files]
    summaries = [summarize(r, model=model, n_epochs=epochs, prices=prices) for r in reports]
    if fmt == "json":
        out = [s.to_json() | {"errors": sum(d.is_error for d in r.diagnostics)}
               for s, r in zip(summaries, reports, strict=True)]
        body = {"model": model, "files": out}
        click.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        for summary, report in zip(summaries, reports, strict=True):
            errors = [d for d in report.diagnostics if d.is_error]
            if errors:
                click.echo(format_diagnostics(tuple(errors)), err=True)
            click.echo(format_text(summary, model=model))
    return EXIT_ERROR if any(r.has_errors for r in reports) else EXIT_OK


@data.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="JSONL file to write.")
@click.option("--to", "to", type=click.Choice(["prompt-completion", "chat"]),
              default="prompt-completion", show_default=True)
@click.option("--add-separator", is_flag=True,
              help="Append the legacy tool's suggested separator to every prompt.")
@click.option("--separator", default=None, help="Append this separator to every prompt.")
@click.option("--add-stop", is_flag=True,
              help="Append the legacy tool's suggested stop marker to every completion.")
@click.option("--stop", default=None, help="Append this stop marker to every completion.")
@click.option("--leading-space", is_flag=True, help="Start every completion with a space.")
@handled
def convert_cmd(source: str, output: str, to: str, add_separator: bool, separator: str | None,
                add_stop: bool, stop: str | None, leading_space: bool) -> int:
    """Convert CSV/TSV/XLSX/JSON/JSONL/TXT to fine-tuning JSONL (no value is coerced)."""
    fixes = Fixes(separator=separator or add_separator or None, stop=stop or add_stop or None,
                  leading_space=leading_space)
    result = convert(source, source, output, to=to, fixes=fixes)
    if result.diagnostics:
        click.echo(format_diagnostics(result.diagnostics), err=True)
    for note in result.applied:
        click.echo(f"fix: {note}")
    failed = sum(1 for d in result.diagnostics if d.is_error)
    click.echo(f"{output}: wrote {result.written} of {result.rows} row(s)"
               + (f"; {failed} problem(s) above" if failed else ""))
    return EXIT_ERROR if failed else EXIT_OK


convert_cmd.name = "convert"


def format_diagnostics(diags: tuple[Diagnostic, ...]) -> str:
    """`FILE:LINE: severity: CODE: message` (FILE alone for whole-file issues)."""
    lines = []
    # Whole-file notes (line 0: counts, "N more" summaries) come after the line-numbered ones.
    ordered = sorted(sorted_diagnostics(diags), key=lambda d: not (d.subject and d.subject.line))
    for d in ordered:
        where = str(SourceRange(file=d.subject.file, line=d.subject.line)) if d.subject else "-"
        lines.append(f"{where}: {d.severity.value}: {d.code or 'error'}: {d.summary}")
    return "\n".join(lines)


def _validate(path: str, options: Options) -> Report:
    if not os.path.isfile(path):
        return _unreadable(path, options, "file_not_found", "no such file")
    if os.path.splitext(path)[1].lower() in (".csv", ".tsv", ".xlsx", ".txt"):
        return _unreadable(path, options, "not_jsonl", "not a JSONL file",
                           f"Convert it first: ftctl data convert {path} -o OUT.jsonl")
    return validate_file(path, path, options)


def _unreadable(path: str, options: Options, code: str, summary: str, detail: str = "") -> Report:
    """The report of a file that is not checked at all (its severity from the levels too)."""
    sink = IssueSink(path, levels=options.levels)
    sink.add(code, 0, summary, detail)
    report = Report(file=path)
    report.diagnostics, report.codes = sink.diagnostics(), dict(sink.counts)
    return report


def _summary(report: Report, cost: Costing | None = None) -> str:
    errors, warnings = _total(report, Severity.ERROR), _total(report, Severity.WARNING)
    fmt = (report.format or "unknown format").replace("_", "/")
    tokens = f"; {cost.summary()}" if cost is not None and report.billable is not None else ""
    head = f"{report.file}: {'FAILED' if errors else 'ok'}: {report.examples} examples ({fmt})"
    return f"{head}{tokens}; {errors} error(s), {warnings} warning(s)"


def _total(report: Report, severity: Severity) -> int:
    by_code: dict[str, Severity] = {}
    for d in report.diagnostics:
        if d.code:
            by_code.setdefault(d.code, d.severity)
    counted = sum(n for code, n in report.codes.items() if by_code.get(code) is severity)
    uncoded = sum(1 for d in report.diagnostics if d.code is None and d.severity is severity)
    return counted + uncoded


def _report_json(report: Report) -> dict[str, object]:
    return {
        "file": report.file, "format": report.format, "bytes": report.bytes,
        "lines": report.lines, "examples": report.examples, "encoding": report.encoding,
        "tokens": report.billable, "token_limit": report.limit,
        "errors": _total(report, Severity.ERROR), "warnings": _total(report, Severity.WARNING),
        "codes": report.codes,
        "diagnostics": [d.to_json() for d in sorted_diagnostics(report.diagnostics)],
    }

"""An evaluation's verdict as text, JSON or Markdown: the metric table (metric, serving,
candidate, delta) and a clear pass/fail line. `ftctl eval` prints it; the PR comment shows
the Markdown. Pure: an Outcome in, a str out.
"""

from __future__ import annotations

import json

from reconciler.evaluation.verdict import DIGITS, Metric, Outcome

EVAL_FORMATS = ("text", "json", "markdown")
_HEAD = ("metric", "serving", "candidate", "delta")


def render_evaluation(outcome: Outcome, fmt: str) -> str:
    """The outcome in the named format; ValueError for other formats."""
    if fmt == "text":
        return render_text(outcome)
    if fmt == "json":
        return json.dumps(outcome.to_json(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(outcome)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(EVAL_FORMATS)}")


def value(score: float | None) -> str:
    return "-" if score is None else f"{score:.{DIGITS}f}"


def signed(delta: float | None) -> str:
    return "-" if delta is None else f"{delta:+.{DIGITS}f}"


def row(metric: Metric) -> tuple[str, str, str, str]:
    return (metric.grader, value(metric.serving), value(metric.candidate), signed(metric.delta))


def verdict_line(outcome: Outcome) -> str:
    if outcome.passed:
        return "PASSED: the new version may replace the serving one."
    return f"REFUSED: {outcome.reason}."


def render_text(outcome: Outcome) -> str:
    serving = outcome.serving or "none (nothing serves yet)"
    lines = [f"Evaluation of {outcome.name} on {outcome.examples} example(s)",
             f"  candidate: {outcome.candidate}", f"  serving:   {serving}", ""]
    rows = [_HEAD, *(row(m) for m in outcome.metrics)]
    if outcome.metrics:
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for r in rows:
            cells = [r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:],
                                                                         strict=True))]
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    lines.append(verdict_line(outcome))
    return "\n".join(lines) + "\n"


def render_markdown(outcome: Outcome) -> str:
    mark = "✅ passed" if outcome.passed else "❌ refused"
    serving = f"`{outcome.serving}`" if outcome.serving else "none (nothing serves yet)"
    lines = [f"### ftctl evaluation: `{outcome.name}` {mark}", "",
             f"{outcome.examples} example(s) · candidate `{outcome.candidate}` · "
             f"serving {serving}", ""]
    if outcome.metrics:
        lines += ["| metric | serving | candidate | delta |", "| --- | ---: | ---: | ---: |"]
        lines += ["| " + " | ".join(_cell(c) for c in row(m)) + " |" for m in outcome.metrics]
        lines.append("")
    if outcome.passed:
        lines.append("**Passed**: the new version may replace the serving one.")
    else:
        lines.append("**Refused**: the serving version stays.")
        lines += ["", *(f"- {_cell(r)}" for r in _reasons(outcome))]
    return "\n".join(lines) + "\n"


def _reasons(outcome: Outcome) -> tuple[str, ...]:
    if outcome.error:
        return (f"the evaluation could not be completed: {outcome.error}",)
    return outcome.refusals


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

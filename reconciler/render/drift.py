"""The drift report (`ftctl drift`) as text, JSON or Markdown (the body of the drift issue).

Pure: a DriftReport in, a str out. Items are grouped by kind in the report's own order.
"""

from __future__ import annotations

import json

from reconciler.plan import DriftItem, DriftKind, DriftReport
from reconciler.render import markdown as md
from reconciler.render import text

DRIFT_FORMATS = ("text", "json", "markdown")
DRIFT_JSON_FORMAT_VERSION = "1.0"
_MAX_ITEMS_PER_KIND = 100

_HEADINGS = {
    DriftKind.DELETED_OUT_OF_BAND: "Deleted outside ftctl",
    DriftKind.FAILED_JOB: "Latest job failed",
    DriftKind.CANCELLED_JOB: "Latest job cancelled",
    DriftKind.CHECKS_FAILED: "Checks failed (the version does not serve)",
    DriftKind.DEPLOYMENT_MISSING: "Deployments gone (the model is not served)",
    DriftKind.DEPLOYMENT_MOVED: "Deployments serving another version",
    DriftKind.ORPHAN: "Orphans (no manifest declares them)",
    DriftKind.UNMANAGED_MODEL: "Fine-tuned models not managed by this workspace",
    DriftKind.BASE_MODEL_RETIRING: "Base models retiring soon",
    DriftKind.BELOW_EVALUATION_MIN: "Serving versions below the evaluation's minimum",
}
_COUNT_WORDS = {
    DriftKind.DELETED_OUT_OF_BAND: "deleted outside ftctl",
    DriftKind.FAILED_JOB: "failed",
    DriftKind.CANCELLED_JOB: "cancelled",
    DriftKind.CHECKS_FAILED: "failed checks",
    DriftKind.DEPLOYMENT_MISSING: "deployment gone",
    DriftKind.DEPLOYMENT_MOVED: "deployment moved",
    DriftKind.ORPHAN: "orphaned",
    DriftKind.UNMANAGED_MODEL: "unmanaged",
    DriftKind.BASE_MODEL_RETIRING: "retiring",
    DriftKind.BELOW_EVALUATION_MIN: "below evaluation min",
}
_RED, _YELLOW, _BOLD, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def render_drift(report: DriftReport, fmt: str, *, color: bool = False) -> str:
    """The report in the named format; colour applies to text only."""
    if fmt == "text":
        return render_drift_text(report, color=color)
    if fmt == "json":
        return render_drift_json(report)
    if fmt == "markdown":
        return render_drift_markdown(report)
    raise ValueError(f"unknown drift format {fmt!r}; expected one of {', '.join(DRIFT_FORMATS)}")


def drift_marker(workspace: str) -> str:
    """The hidden line that identifies this workspace's drift issue."""
    return f"<!-- ftctl:drift workspace={workspace} -->"


def summary_line(report: DriftReport) -> str:
    if not report.has_drift:
        return f'No drift. The remote matches the manifests of workspace "{report.workspace}".'
    parts = [f"{n} {_COUNT_WORDS.get(kind, kind.value)}" for kind, n in _counts(report)]
    return "Drift: " + ", ".join(parts) + "."


def _counts(report: DriftReport) -> list[tuple[DriftKind, int]]:
    counts: dict[DriftKind, int] = {}
    for item in report.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return list(counts.items())


def _groups(report: DriftReport) -> list[tuple[DriftKind, list[DriftItem]]]:
    groups: dict[DriftKind, list[DriftItem]] = {}
    for item in report.items:
        groups.setdefault(item.kind, []).append(item)
    return list(groups.items())


def _heading(kind: DriftKind) -> str:
    return _HEADINGS.get(kind, kind.value.replace("_", " ").capitalize())


# --- text ----------------------------------------------------------------------------------

def render_drift_text(report: DriftReport, *, color: bool = False) -> str:
    def paint(code: str, value: str) -> str:
        return f"{code}{value}{_RESET}" if color else value

    out: list[str] = []
    if report.has_drift:
        when = f" on {report.today}" if report.today else ""
        out += [f'Drift found in workspace "{report.workspace}"{when}:', ""]
    for kind, items in _groups(report):
        out.append(paint(_BOLD, f"{_heading(kind)} ({len(items)}):"))
        out += [f"  {paint(_YELLOW, '!')} {item.message}" for item in items]
        out.append("")
    out += text.notes_lines(report.notes, color=color)
    out.append(paint(_BOLD, summary_line(report)))
    if report.has_drift:
        out.append("Run `ftctl plan` to see what apply would do about it.")
    return "\n".join(out) + "\n"


# --- JSON ----------------------------------------------------------------------------------

def render_drift_json(report: DriftReport) -> str:
    """{format_version, workspace, today, has_drift, items[], summary{kind: n}, diagnostics[]}."""
    doc = {
        "format_version": DRIFT_JSON_FORMAT_VERSION,
        "workspace": report.workspace,
        "today": report.today,
        "has_drift": report.has_drift,
        "items": [_item(i) for i in report.items],
        "summary": report.summary(),
        "diagnostics": [d.to_json() for d in report.notes],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _item(item: DriftItem) -> dict[str, object]:
    return {
        "kind": item.kind.value,
        "name": item.name,
        "subject": item.subject,
        "date": item.date,
        "message": item.message,
    }


# --- Markdown ------------------------------------------------------------------------------

def render_drift_markdown(report: DriftReport, *, limit: int = md.GITHUB_COMMENT_LIMIT) -> str:
    """An issue/comment body; never longer than `limit` characters."""
    when = f" ({report.today})" if report.today else ""
    title = f"## ftctl drift in workspace `{report.workspace}`{when}"
    out = [drift_marker(report.workspace), title, ""]
    out += [f"**{md.inline(summary_line(report))}**", ""]
    if report.has_drift:
        out += ["| Kind | Count |", "| --- | ---: |"]
        out += [f"| {_heading(k)} | {n} |" for k, n in _counts(report)]
        out.append("")
    for kind, items in _groups(report):
        out += [f"### {_heading(kind)}", ""]
        shown = items[:_MAX_ITEMS_PER_KIND]
        out += [f"- {_item_md(i)}" for i in shown]
        if len(items) > len(shown):
            out.append(f"- … and {len(items) - len(shown)} more")
        out.append("")
    out += md.notes_section(report.notes)
    if report.has_drift:
        out += ["Run `ftctl plan` to see what apply would do about it.", ""]
    return md.fit(out, [], limit, rerun="ftctl drift")


def _item_md(item: DriftItem) -> str:
    name = f"`{item.name}`: " if item.name else ""
    message = item.message
    if item.name and message.startswith(item.name + ": "):
        message = message[len(item.name) + 2:]
    return name + md.inline(message)

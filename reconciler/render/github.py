"""GitHub Actions output: workflow-command annotations and step-summary Markdown for diagnostics.

Pure: values in, strings out. `::error file=F,line=L,col=C,title=T::message` lines make GitHub
show a manifest or dataset problem on the pull request's changed line. Escaping follows the
runner's own rules (actions/toolkit `command.ts`): in messages `%`, CR and LF are percent-encoded;
in properties also `:` and `,`, which would otherwise end the property. Writing the summary file
named by $GITHUB_STEP_SUMMARY is I/O and lives in `reconciler.app.github`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

from reconciler.diagnostics import Diagnostic, Severity

# GitHub knows three annotation levels; ftctl's INFO maps to a notice.
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}

SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def escape_data(text: str) -> str:
    """Escape a workflow-command message (the part after `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value (file=, title=, ...)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _message(diag: Diagnostic) -> str:
    text = diag.summary
    if diag.detail:
        text += "\n" + diag.detail
    if diag.address and diag.subject is None and not diag.summary.startswith(diag.address):
        # Without a file the address is the only pointer to what is wrong.
        text = f"{diag.address}: {text}"
    return text


def _file(path: str, prefix: str) -> str:
    """A path relative to the GitHub workspace, where GitHub looks the file up."""
    if not prefix or prefix == ".":
        return path
    return posixpath.normpath(posixpath.join(prefix, path))


def annotation(diag: Diagnostic, *, path_prefix: str = "", title_prefix: str = "ftctl") -> str:
    """One workflow command line for one diagnostic (no trailing newline).

    path_prefix: the project root relative to the GitHub workspace, when ftctl runs with -C.
    """
    props: list[tuple[str, str]] = []
    subject = diag.subject
    if subject is not None and subject.file:
        props.append(("file", _file(subject.file, path_prefix)))
        if subject.line > 0:
            props.append(("line", str(subject.line)))
            if subject.column > 0:
                props.append(("col", str(subject.column)))
    title = f"{title_prefix}: {diag.code}" if diag.code else title_prefix
    props.append(("title", title))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{_COMMAND[diag.severity]} {rendered}::{escape_data(_message(diag))}"


# GitHub shows at most 10 annotations of each level per step and silently drops the rest.
MAX_PER_LEVEL = 10


def format_annotations(
    diags: Iterable[Diagnostic],
    *,
    path_prefix: str = "",
    title_prefix: str = "ftctl",
    max_per_level: int = MAX_PER_LEVEL,
) -> str:
    """All diagnostics as workflow commands, one per line, ending in a newline (or empty).

    Beyond `max_per_level` of one level, the last slot says how many more there are, rather
    than letting GitHub drop them without a word; the step summary still lists every one.
    """
    items = list(diags)
    lines: list[str] = []
    for severity in Severity:
        of_level = [d for d in items if d.severity is severity]
        shown = of_level if len(of_level) <= max_per_level else of_level[: max_per_level - 1]
        lines += [annotation(d, path_prefix=path_prefix, title_prefix=title_prefix)
                  for d in shown]
        hidden = len(of_level) - len(shown)
        if hidden:
            more = Diagnostic(
                severity=severity,
                summary=f"{hidden} more {severity.value}(s) not shown as annotations",
                detail="Every problem is listed in the job log and the step summary.",
            )
            lines.append(annotation(more, title_prefix=title_prefix))
    return "".join(line + "\n" for line in lines)


def _cell(text: str) -> str:
    """Markdown table cells cannot hold pipes or newlines."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def diagnostics_markdown(diags: Iterable[Diagnostic], *, heading: str = "ftctl validate") -> str:
    """A step-summary section listing every diagnostic, or saying there were none."""
    items = list(diags)
    errors = sum(1 for d in items if d.severity is Severity.ERROR)
    warnings = sum(1 for d in items if d.severity is Severity.WARNING)
    lines = [f"### {heading}", ""]
    if not items:
        lines += ["✅ No problems found.", ""]
        return "\n".join(lines)
    lines += [f"{errors} error(s), {warnings} warning(s).", ""]
    lines += ["| | Where | Problem |", "| --- | --- | --- |"]
    for d in items:
        where = str(d.subject) if d.subject else (d.address or "")
        problem = f"**{d.summary}**" + (f" {d.detail}" if d.detail else "")
        lines.append(f"| {_ICON[d.severity]} | `{_cell(where)}` | {_cell(problem)} |")
    lines.append("")
    return "\n".join(lines)


def summary_path(env: Mapping[str, str]) -> str | None:
    """The step-summary file GitHub asked us to append to, if any."""
    path = env.get(SUMMARY_ENV, "").strip()
    return path or None


def workspace_prefix(project_root: str, env: Mapping[str, str]) -> str:
    """The project root relative to $GITHUB_WORKSPACE ("" when equal or not under it).

    Pure path arithmetic on absolute paths; annotations need repo-relative file names.
    """
    workspace = env.get("GITHUB_WORKSPACE", "").strip()
    if not workspace:
        return ""
    root = posixpath.normpath(project_root.replace("\\", "/"))
    base = posixpath.normpath(workspace.replace("\\", "/"))
    if root == base or not root.startswith(base.rstrip("/") + "/"):
        return ""
    return posixpath.relpath(root, base)

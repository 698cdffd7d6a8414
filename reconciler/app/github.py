"""GitHub Actions output for `--format github`: annotations to print, Markdown for the summary.

The pure formatting lives in `reconciler.render.github`; this module is the one place that
writes the step-summary file ($GITHUB_STEP_SUMMARY), so renderers stay free of I/O. Functions
return what the CLI should print on stdout (GitHub reads workflow commands from it); they never
print themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.plan import DriftReport, Plan
from reconciler.render import github, render
from reconciler.render.drift import render_drift


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append `markdown` to the step summary when GitHub provides one; True if written.

    Appends (never truncates): several ftctl steps in one job each add their own section.
    """
    path = github.summary_path(os.environ if env is None else env)
    if path is None:
        return False
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return True


def report_diagnostics(
    diags: Iterable[Diagnostic],
    *,
    project_root: str,
    heading: str,
    env: Mapping[str, str] | None = None,
) -> str:
    """Annotations for `diags` (returned, for the CLI to print on stdout) plus a summary section.

    project_root: absolute project directory; file names are made relative to $GITHUB_WORKSPACE
    so GitHub can place each annotation on its line.
    """
    environ = os.environ if env is None else env
    items = tuple(diags)
    prefix = github.workspace_prefix(os.path.abspath(project_root), environ)
    append_step_summary(github.diagnostics_markdown(items, heading=heading), environ)
    return github.format_annotations(items, path_prefix=prefix)


def plan_report(plan: Plan, *, project_root: str, env: Mapping[str, str] | None = None) -> str:
    """`plan --format github`: the text plan plus an annotation per note (returned, for
    stdout); the Markdown plan is appended to the step summary."""
    environ = os.environ if env is None else env
    append_step_summary(render(plan, "markdown"), environ)
    prefix = github.workspace_prefix(os.path.abspath(project_root), environ)
    return render(plan, "text") + github.format_annotations(plan.notes, path_prefix=prefix)


def drift_report(
    report: DriftReport, *, project_root: str, env: Mapping[str, str] | None = None
) -> str:
    """`drift --format github`: the text report, a warning annotation per drift item and one
    per note (returned, for stdout); the Markdown report is appended to the step summary."""
    environ = os.environ if env is None else env
    append_step_summary(render_drift(report, "markdown"), environ)
    prefix = github.workspace_prefix(os.path.abspath(project_root), environ)
    items = tuple(
        Diagnostic(
            severity=Severity.WARNING,
            summary=item.message,
            address=item.name or item.subject,
            code=f"drift {item.kind.value}",
        )
        for item in report.items
    )
    annotations = github.format_annotations((*items, *report.notes), path_prefix=prefix)
    return render_drift(report, "text") + annotations

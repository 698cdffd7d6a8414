"""GitHub Actions side effects for `--format github`: append Markdown to $GITHUB_STEP_SUMMARY.

The pure formatting lives in `reconciler.render.github`; this module is the one place that
writes the step-summary file, so renderers stay free of I/O. Never prints (the CLI does).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from reconciler.diagnostics import Diagnostic
from reconciler.render import github


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

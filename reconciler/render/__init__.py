"""Renderers: values in, strings out. No I/O; only the CLI prints what they return.

`render(plan, fmt)` is the one switch over plan formats: "text", "json", "markdown".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import Plan

PLAN_FORMATS = ("text", "json", "markdown")


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """The plan in the named format; colour applies to text only. ValueError for other formats."""
    # The renderers are imported here, when a plan is rendered: importing the package for
    # one of its modules (diagnostics, for `ftctl validate`) should not load them all.
    if fmt == "text":
        from reconciler.render.text import render_text

        return render_text(plan, color=color)
    if fmt == "json":
        from reconciler.render.jsonplan import render_json

        return render_json(plan)
    if fmt == "markdown":
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(PLAN_FORMATS)}")

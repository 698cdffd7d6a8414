"""Renderers: values in, strings out. No I/O; only the CLI prints what they return.

`render(plan, fmt)` is the one switch over plan formats: "text", "json", "markdown".
"""

from __future__ import annotations

from reconciler.plan import Plan
from reconciler.render.jsonplan import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

PLAN_FORMATS = ("text", "json", "markdown")


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    """The plan in the named format; colour applies to text only. ValueError for other formats."""
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; expected one of {', '.join(PLAN_FORMATS)}")

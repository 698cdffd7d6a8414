"""The plan as a Markdown pull-request comment (Atlantis/tfcmt style), under GitHub's size limit.

Pure: a Plan in, a str out. The first line is a hidden marker CI uses to find and update its one
sticky comment. Sections, most important first: a loud warning when anything is deleted or
cancelled, the summary line, a table per model, the cost total, notes, then one collapsible
<details> per model. Whatever does not fit under the limit is left out with a note saying so.
"""

from __future__ import annotations

import html
import re

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.plan import Plan
from reconciler.render import planview as pv
from reconciler.render import text
from reconciler.render import wording as words

GITHUB_COMMENT_LIMIT = 65_536
_MAX_TABLE_ROWS = 200
_MAX_LIST_ITEMS = 50
_ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def marker(workspace: str) -> str:
    """The hidden line that identifies this workspace's sticky plan comment."""
    return f"<!-- ftctl:plan workspace={workspace} -->"


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment text; never longer than `limit` characters (counted as UTF-16 units)."""
    view = pv.build(plan)
    head = [
        marker(view.workspace),
        f"<!-- ftctl:snapshot-fingerprint={plan.snapshot_fingerprint} -->",
        f"## ftctl plan for workspace `{view.workspace}`",
        "",
    ]
    if view.has_errors:
        head += ["> [!WARNING]", f"> **{words.error_line(view.notes)}** See the notes below.", ""]
    if view.targets:
        head += ["> [!NOTE]", f"> {inline(words.targets_line(view.targets))}", ""]
    if not view.has_changes and view.unsettled:
        head += [f"**{words.unsettled_line(view.unsettled)}**", ""]
    elif not view.has_changes:
        head += ["**No changes.** Your models match the manifests.", ""]
    else:
        head += _warning(view) + [f"**{words.summary_line(view.counts)}**", ""]
        head += _table(view) + _cost(view)
    head += notes_section(view.notes)
    details = [_details(c) for c in view.active]
    return fit(head, details, limit)


def _warning(view: pv.PlanView) -> list[str]:
    hits = view.destructive
    files = view.file_deletes
    if not hits and not files:
        return []
    deletes = sum(len(c.deletes) for c in hits)
    cancels = sum(len(c.cancels) for c in hits)
    jobs = sum(len(c.deleted_jobs) for c in hits)
    deleted = [_count(n, noun) for n, noun in ((deletes, "model version"),
                                                (jobs, "retired job"),
                                                (len(files), "dataset file")) if n]
    parts = [f"deletes {_and(deleted)}"] if deleted else []
    parts += [f"cancels {_count(cancels, 'job')}"] if cancels else []
    undeploys = sum(len(c.undeploys) for c in hits)
    parts += [f"removes {_count(undeploys, 'deployment')}"] if undeploys else []
    loud = f"> **This plan {' and '.join(parts)}.**"
    if deletes:
        loud += " A deleted model cannot be restored."
    lines = ["> [!CAUTION]", loud]
    lines.append(">")
    items = [f"> - `{c.name}`: delete model `{m}`" for c in hits for m in c.deletes]
    items += [f"> - `{c.name}`: cancel job `{j}`" for c in hits for j in c.cancels]
    items += [f"> - `{c.name}`: remove deployment `{d}` (it stops serving)"
              for c in hits for d in c.undeploys]
    items += [f"> - `{c.name}`: delete job `{j}`" for c in hits for j in c.deleted_jobs]
    items += [f"> - delete file `{f.file_id}` (`{f.filename}`, no longer needed)" for f in files]
    lines += _capped(items, "> ")
    return [*lines, ""]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _count(n: int, noun: str) -> str:
    if n == 0:
        return ""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _capped(items: list[str], prefix: str) -> list[str]:
    if len(items) <= _MAX_LIST_ITEMS:
        return items
    rest = len(items) - _MAX_LIST_ITEMS
    return [*items[:_MAX_LIST_ITEMS], f"{prefix}- … and {rest} more"]


def _table(view: pv.PlanView) -> list[str]:
    rows = [
        "| | Model | Action | Why | Training tokens | Est. cost |",
        "| :-: | --- | --- | --- | ---: | ---: |",
    ]
    for c in view.active[:_MAX_TABLE_ROWS]:
        est = c.estimate
        tokens = f"{est.training_tokens:,}" if est and est.training_tokens is not None else ""
        cost = words.format_cost(est.cost_usd) if est else ""
        rows.append(
            f"| `{c.action.symbol}` | `{c.name}` | {c.action.value} | {_cell(c.description)} "
            f"| {tokens} | {cost} |"
        )
    rest = len(view.active) - _MAX_TABLE_ROWS
    if rest > 0:
        rows.append(f"| | … and {rest} more | | | | |")
    return [*rows, ""]


def _cost(view: pv.PlanView) -> list[str]:
    lines = [pv.cost_sentence(view, bold="**"), pv.hosting_sentence(view, bold="**")]
    shown = [line for line in lines if line]
    return [*shown, ""] if shown else []


def notes_section(notes: tuple[Diagnostic, ...]) -> list[str]:
    if not notes:
        return []
    items = []
    for d in notes:
        where = words.note_place(d)
        where = f"`{where[:-2]}`: " if where else ""
        item = f"- {_ICONS[d.severity]} **{words.severity_word(d)}:** {where}{inline(d.summary)}"
        detail = " ".join(line.strip() for line in d.detail.splitlines() if line.strip())
        items.append(item + (f"<br>{inline(detail)}" if detail else ""))
    return ["### Notes", "", *_capped(items, ""), ""]


def _details(change: pv.ModelChange) -> list[str]:
    body = text.block_body(change)
    # GitHub colours diff lines by their first character; `!` is its "changed" colour.
    lines = [f"{change.action.symbol} model \"{change.name}\"", *body]
    lines = ["!" + line[1:] if line.startswith("~") else line for line in lines]
    fence = _fence(lines)
    summary = f"<code>{change.name}</code> {html.escape(change.description)}"
    return [
        f"<details><summary>{summary}</summary>",
        "",
        f"{fence}diff",
        *lines,
        fence,
        "",
        "</details>",
        "",
    ]


def _fence(lines: list[str]) -> str:
    """A code fence longer than any backtick run inside, so content cannot close it."""
    runs = [len(run) for line in lines for run in _BACKTICKS.findall(line)]
    return "`" * max(3, max(runs, default=0) + 1)


_BACKTICKS = re.compile(r"`+")


def _cell(value: str) -> str:
    return inline(value).replace("|", "\\|")


def inline(value: str) -> str:
    """Text safe inside Markdown prose: no raw HTML, no line breaks."""
    return html.escape(value, quote=False).replace("\n", " ")


def _size(value: str) -> int:
    # GitHub counts the limit in characters; UTF-16 units are never fewer, so stay on those.
    return len(value.encode("utf-16-le")) // 2


def fit(head: list[str], details: list[list[str]], limit: int, *, rerun: str = "ftctl plan") -> str:
    """head lines, then as many detail blocks as fit under `limit`, then a note if cut."""
    out = "\n".join(head) + "\n"
    shown = 0
    if details:
        out += "### Details\n\n"
    for block in details:
        piece = "\n".join(block) + "\n"
        if _size(out) + _size(piece) + _size(_cut_note(len(details), rerun)) > limit:
            break
        out += piece
        shown += 1
    if shown < len(details):
        out += _cut_note(len(details) - shown, rerun)
    if _size(out) > limit:  # the head alone is too big: cut at a line, then say so
        note = _cut_note(len(details) - shown, rerun)
        out = _hard_cut(out, limit - _size(note)) + note
    return out


def _cut_note(missing: int, rerun: str) -> str:
    left_out = f" ({missing} model detail(s) left out)" if missing else ""
    return (
        "\n> [!NOTE]\n"
        f"> This comment was shortened to stay under GitHub's {GITHUB_COMMENT_LIMIT:,}-character "
        f"limit{left_out}. Run `{rerun}` or open the job log for everything.\n"
    )


def _hard_cut(value: str, budget: int) -> str:
    while _size(value) > budget:
        value = value[: max(0, len(value) - (_size(value) - budget))]
    cut = value.rfind("\n")
    return value[: cut + 1] if cut >= 0 else ""


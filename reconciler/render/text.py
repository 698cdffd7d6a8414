"""The plan as terminal text, shaped like Terraform's: symbols, per-model blocks, a summary line.

Pure: a Plan in, a str out. ANSI colour only when asked (the CLI asks on a terminal).
"""

from __future__ import annotations

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.plan import Action, DeleteFile, FieldChange, Plan, UploadFile
from reconciler.render import planview as pv
from reconciler.render import wording as words

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_COLOURS = {
    Action.CREATE: "\x1b[32m",  # green
    Action.CONTINUE: "\x1b[33m",  # yellow
    Action.RETRAIN: "\x1b[35m",  # magenta: a replace, neither pure add nor pure delete
    Action.CANCEL: "\x1b[31m",  # red
    Action.DELETE: "\x1b[31m",
    Action.UPLOAD: "\x1b[36m",  # cyan
    Action.VERIFY: "\x1b[34m",  # blue
    Action.DEPLOY: "\x1b[32m",
    Action.UNDEPLOY: "\x1b[31m",
    Action.NOOP: "",
}
_SEVERITY_COLOURS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: ""}
_LEGEND = {
    Action.CREATE: "create",
    Action.RETRAIN: "retrain (new version from the base model; old version kept until it passes)",
    Action.CONTINUE: "continue training from the current model",
    Action.CANCEL: "cancel a job",
    Action.DELETE: "delete a model version",
    Action.UPLOAD: "upload a dataset",
    Action.VERIFY: "verify (run the checks; the version serves once they pass)",
    Action.DEPLOY: "deploy (create or move a deployment; to a new version once it passes)",
    Action.UNDEPLOY: "remove a deployment",
}


class _Paint:
    """Applies ANSI codes, or nothing when colour is off."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.on and code else text

    def sym(self, action: Action) -> str:
        return self(_COLOURS.get(action, ""), action.symbol)  # deploy steps: uncoloured


def render_text(plan: Plan, *, color: bool = False) -> str:
    """The whole plan as text, ending with the summary line and a newline."""
    view = pv.build(plan)
    paint = _Paint(color)
    out: list[str] = []
    if view.active or view.loose_uploads or view.file_deletes:
        out += _legend(view, paint)
        out.append(f'ftctl will perform the following actions in workspace "{view.workspace}":')
        out.append("")
        for change in view.active:
            out += _block(change, paint)
            out.append("")
        out += _loose_uploads(view, paint)
        out += _file_deletes(view, paint)
    out += _notes(view.notes, paint)
    if view.targets:
        out += [paint(_SEVERITY_COLOURS[Severity.WARNING], words.targets_line(view.targets)), ""]
    if view.has_changes:
        out += _cost(view)
        out.append(paint(_BOLD, words.summary_line(view.counts)))
    elif view.unsettled:
        out.append(paint(_BOLD, words.unsettled_line(view.unsettled)))
    else:
        out.append(paint(_BOLD, words.NO_CHANGES))
    if view.has_errors:
        out.append(paint(_SEVERITY_COLOURS[Severity.ERROR], words.error_line(view.notes)))
    return "\n".join(out) + "\n"


def _legend(view: pv.PlanView, paint: _Paint) -> list[str]:
    used = {s.action for c in view.active for s in c.steps}
    if any(c.uploads for c in view.active) or view.loose_uploads:
        used.add(Action.UPLOAD)
    if view.file_deletes:
        used.add(Action.DELETE)
    lines = ["Actions are shown with these symbols:"]
    width = max(len(a.symbol) for a in used) if used else 1
    for action, meaning in _LEGEND.items():
        if action in used:
            lines.append(f"  {paint.sym(action)}{' ' * (width - len(action.symbol))} {meaning}")
    return [*lines, ""]


def _block(change: pv.ModelChange, paint: _Paint) -> list[str]:
    head = paint(_BOLD, f"  # {change.name} {change.description}")
    lines = [head, f'  {paint.sym(change.action)} model "{change.name}" {{']
    body = _body(change, paint)
    lines += [f"      {line}" for line in body]
    lines.append("    }")
    return lines


def block_body(change: pv.ModelChange) -> list[str]:
    """The lines inside a model's block, uncoloured and unindented (Markdown reuses them)."""
    return _body(change, _Paint(False))


def _body(change: pv.ModelChange, paint: _Paint) -> list[str]:
    lines = [f"{paint.sym(Action.CANCEL)} cancel job {job}" for job in change.cancels]
    for up in change.uploads:
        lines.append(f"{paint.sym(Action.UPLOAD)} upload {_upload_words(up)}")
    lines += _fields(change, paint)
    lines += [f"{paint.sym(Action.VERIFY)} verify version {v.version} ({v.model_id}): "
              f"{len(v.checks)} check(s)" for v in change.verifies]
    for step in change.deployments:
        lines.append(f"{paint.sym(step.action)} {words.deployment_words(step)}")
        lines += [f"    {row}" for row in _rows(step.changes, paint)]
    after = ("  # once the new version succeeds and passes its checks" if change.create
             else "  # once it passes its checks" if change.verifies else "")
    lines += [f"{paint.sym(Action.DELETE)} delete model {mid}{after}" for mid in change.deletes]
    lines += [f"{paint.sym(Action.DELETE)} delete job {job}  # prune: a retired version"
              for job in change.deleted_jobs]
    if change.estimate is not None:
        lines.append(f"  # estimate: {words.estimate_words(change.estimate)}")
    if change.hosted:
        lines.append(f"  # hosting: {words.format_monthly(change.monthly_hosting)}"
                     + ("" if change.monthly_hosting is not None else " (not priced)"))
    return lines


def _upload_words(up: UploadFile) -> str:
    return f"{up.repo_path} ({words.format_bytes(up.bytes)}, sha256 {up.sha256[:12]})"


def _fields(change: pv.ModelChange, paint: _Paint) -> list[str]:
    rows = [_field_row(c.path, c.before, c.after, c.forces_new) for c in change.fields]
    job = change.create
    if job is not None:
        sign = "+" if change.action is Action.CREATE else " "
        if not any(c.path == "model" for c in change.fields):
            rows.append((sign, "model", words.format_value(job.model), ""))
        rows.append((sign, "version", str(job.version), ""))
    return _aligned(rows, paint)


def _rows(changes: tuple[FieldChange, ...], paint: _Paint) -> list[str]:
    return _aligned([_field_row(c.path, c.before, c.after, c.forces_new) for c in changes],
                    paint)


def _aligned(rows: list[tuple[str, ...]], paint: _Paint) -> list[str]:
    if not rows:
        return []
    width = max(len(r[1]) for r in rows)
    out = []
    for sign, path, value, tail in rows:
        colour = {"+": _COLOURS[Action.CREATE], "~": _COLOURS[Action.CONTINUE]}.get(sign, "")
        colour = _COLOURS[Action.DELETE] if sign == "-" else colour
        out.append(f"{paint(colour, sign)} {path.ljust(width)} = {value}{tail}")
    return out


def _field_row(path: str, before: object, after: object, forces: bool) -> tuple[str, ...]:
    tail = "  # forces retrain" if forces else ""
    if before is None and after is not None:
        return ("+", path, words.format_value(after), tail)
    if after is None:
        return ("-", path, f"{words.format_value(before)} -> null", tail)
    return ("~", path, f"{words.format_value(before)} -> {words.format_value(after)}", tail)


def _loose_uploads(view: pv.PlanView, paint: _Paint) -> list[str]:
    if not view.loose_uploads:
        return []
    lines = ["  # datasets to upload"]
    lines += [f"  {paint.sym(Action.UPLOAD)} upload {_upload_words(u)}" for u in view.loose_uploads]
    return [*lines, ""]


def _file_deletes(view: pv.PlanView, paint: _Paint) -> list[str]:
    if not view.file_deletes:
        return []
    lines = ["  # dataset files no manifest, job or kept version needs any more"]
    lines += [f"  {paint.sym(Action.DELETE)} delete file {_file_words(f)}"
              for f in view.file_deletes]
    return [*lines, ""]


def _file_words(f: DeleteFile) -> str:
    return f"{f.file_id} ({f.filename}, {words.format_bytes(f.bytes)})"


def notes_lines(notes: tuple[Diagnostic, ...], *, color: bool = False) -> list[str]:
    """Notes as "Warning: where: summary" lines plus indented detail, and a blank line."""
    return _notes(notes, _Paint(color))


def _notes(notes: tuple[Diagnostic, ...], paint: _Paint) -> list[str]:
    lines: list[str] = []
    for d in notes:
        where = words.note_place(d)
        word = paint(_SEVERITY_COLOURS[d.severity], words.severity_word(d))
        lines.append(f"{word}: {where}{d.summary}")
        lines += [f"  {line}" for line in d.detail.splitlines() if line.strip()]
    return [*lines, ""] if lines else []


def _cost(view: pv.PlanView) -> list[str]:
    lines = [pv.cost_sentence(view), pv.hosting_sentence(view)]
    shown = [line for line in lines if line]
    return [*shown, ""] if shown else []

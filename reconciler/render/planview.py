"""A plan regrouped per model for display: one ModelChange per name, with its reason in words.

Pure and shared by the text, JSON and Markdown renderers, so all three tell the same story.
No I/O. Steps are grouped by `Step.name`; upload steps join the models whose steps depend on
them (a dataset shared by two models is listed under both).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.diagnostics import Diagnostic, Diagnostics, Severity
from reconciler.plan import (
    UNKNOWN,
    Action,
    CancelJob,
    CreateJob,
    DeleteModel,
    Estimate,
    FieldChange,
    FromStep,
    Plan,
    Reason,
    Step,
    UploadFile,
)

# Which step decides a model's headline action when it has several (cancel + create, ...).
_PRIORITY = (
    Action.RETRAIN,
    Action.CONTINUE,
    Action.CREATE,
    Action.DELETE,
    Action.CANCEL,
    Action.UPLOAD,
    Action.NOOP,
)

# Summary line order; create/retrain/delete always shown, the others only when non-zero.
SUMMARY_ORDER = (Action.CREATE, Action.RETRAIN, Action.CONTINUE, Action.CANCEL, Action.DELETE)
_ALWAYS_SHOWN = (Action.CREATE, Action.RETRAIN, Action.DELETE)

_FIELD_WORDS = {
    "model": "the base model",
    "training_file": "the training file",
    "validation_file": "the validation file",
    "method": "the training method",
    "method.type": "the training method",
    "suffix": "the suffix",
    "seed": "the seed",
    "integrations": "the integrations",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelChange:
    """Everything the plan does to one model name, in plan order."""

    name: str
    action: Action
    reason: Reason
    description: str  # e.g. "must be retrained because the training file changed"
    steps: tuple[Step, ...]
    fields: tuple[FieldChange, ...]
    uploads: tuple[UploadFile, ...]
    estimate: Estimate | None
    notes: Diagnostics

    @property
    def main(self) -> Step:
        return next(s for s in self.steps if s.action is self.action)

    @property
    def cancels(self) -> tuple[str, ...]:
        return tuple(s.payload.job_id for s in self.steps if isinstance(s.payload, CancelJob))

    @property
    def deletes(self) -> tuple[str, ...]:
        return tuple(s.payload.model_id for s in self.steps if isinstance(s.payload, DeleteModel))

    @property
    def create(self) -> CreateJob | None:
        return next((s.payload for s in self.steps if isinstance(s.payload, CreateJob)), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    workspace: str
    changes: tuple[ModelChange, ...]  # sorted by name; NOOP-only models included
    loose_uploads: tuple[UploadFile, ...]  # uploads no model step depends on
    notes: Diagnostics  # every plan note, in plan order
    counts: dict[str, int]
    has_changes: bool
    has_errors: bool = False
    targets: tuple[str, ...] = ()

    @property
    def active(self) -> tuple[ModelChange, ...]:
        """Changes that do something (NOOP-only models left out)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def destructive(self) -> tuple[ModelChange, ...]:
        return tuple(c for c in self.changes if c.cancels or c.deletes)

    @property
    def total_tokens(self) -> int:
        return sum(e.training_tokens or 0 for e in self._estimates())

    @property
    def total_cost(self) -> float:
        return sum(e.cost_usd or 0.0 for e in self._estimates())

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Names whose estimate has no cost (no price for the base model)."""
        return tuple(c.name for c in self.changes if c.estimate and c.estimate.cost_usd is None)

    def _estimates(self) -> Iterable[Estimate]:
        return (c.estimate for c in self.changes if c.estimate is not None)


def build(plan: Plan) -> PlanView:
    """Group the plan's steps per model name."""
    uploads = {s.key: s for s in plan.steps if isinstance(s.payload, UploadFile)}
    used: set[str] = set()
    names = sorted({s.name for s in plan.steps if not isinstance(s.payload, UploadFile)})
    changes = []
    for name in names:
        steps = tuple(
            s for s in plan.steps if s.name == name and not isinstance(s.payload, UploadFile)
        )
        keys = _upload_keys(steps, uploads, name)
        used.update(keys)
        files = tuple(_upload(uploads[k]) for k in keys)
        changes.append(_model_change(name, steps, files, _notes_for(plan.notes, name)))
    loose = tuple(_upload(s) for k, s in uploads.items() if k not in used)
    return PlanView(
        workspace=plan.workspace,
        changes=tuple(changes),
        loose_uploads=loose,
        notes=plan.notes,
        counts=plan.summary(),
        has_changes=plan.has_changes,
        has_errors=any(d.is_error for d in plan.notes),
        targets=plan.targets,
    )


def _upload(step: Step) -> UploadFile:
    assert isinstance(step.payload, UploadFile)
    return step.payload


def _upload_keys(steps: tuple[Step, ...], uploads: dict[str, Step], name: str) -> list[str]:
    wanted = {d for s in steps for d in s.depends_on}
    for step in steps:
        if isinstance(step.payload, CreateJob):
            wanted.update(_from_step_keys(step.payload))
    return [k for k, s in uploads.items() if k in wanted or s.name == name]


def _from_step_keys(job: CreateJob) -> set[str]:
    values = (job.training_file, job.validation_file)
    return {v.key for v in values if isinstance(v, FromStep)}


def _notes_for(notes: Diagnostics, name: str) -> Diagnostics:
    return tuple(d for d in notes if d.address and _address_name(d.address) == name)


def _address_name(address: str) -> str:
    return address.split(".", 1)[0]


def _model_change(
    name: str, steps: tuple[Step, ...], uploads: tuple[UploadFile, ...], notes: Diagnostics
) -> ModelChange:
    present = {s.action for s in steps}
    action = next(a for a in _PRIORITY if a in present)
    main = next(s for s in steps if s.action is action)
    fields = _fields(main, steps)
    estimate = next((s.estimate for s in steps if s.estimate is not None), None)
    return ModelChange(
        name=name,
        action=action,
        reason=main.reason,
        description=describe(main, fields),
        steps=steps,
        fields=fields,
        uploads=uploads,
        estimate=estimate,
        notes=notes,
    )


def _fields(main: Step, steps: tuple[Step, ...]) -> tuple[FieldChange, ...]:
    # A cancel-and-recreate carries the same diff on both steps: show it once.
    source = main if main.changes else next((s for s in steps if s.changes), main)
    out: list[FieldChange] = []
    for change in source.changes:
        if change not in out:
            out.append(change)
    return tuple(out)


def describe(step: Step, fields: tuple[FieldChange, ...] = ()) -> str:
    """The header sentence for a model, Terraform's "must be replaced because ..."."""
    a, r = step.action, step.reason
    because = _because(step, fields)
    if a is Action.CREATE:
        if r is Reason.NEW:
            return "will be created"
        if r is Reason.IN_FLIGHT_SPEC_MISMATCH:
            return f"will be restarted {because}"
        if r in (Reason.DELETED_OUT_OF_BAND, Reason.RETRY_FAILED):
            return f"will be created again {because}"
        return f"will be created {because}"
    if a is Action.RETRAIN:
        return f"must be retrained {because}"
    if a is Action.CONTINUE:
        return f"will continue training from its current model {because}"
    if a is Action.CANCEL:
        return f"will have its job cancelled {because}"
    if a is Action.DELETE and r is Reason.ORPHANED:
        return f"will be deleted {because}"
    if a is Action.DELETE:
        return f"will have an old version deleted {because}"
    if a is Action.UPLOAD:
        return f"needs a dataset uploaded {because}"
    return _NOOP_WORDS.get(r, "has no changes")


_NOOP_WORDS = {
    Reason.UNCHANGED: "is up to date",
    Reason.IN_PROGRESS: "has a job in progress with this spec",
    Reason.FAILED: "has a failed latest job with this spec; it is not retried",
    Reason.ADOPTED: "is adopted from a job made outside ftctl",
    Reason.BLOCKED: "cannot be planned yet (see the notes)",
}


def _because(step: Step, fields: tuple[FieldChange, ...]) -> str:
    r = step.reason
    if r is Reason.SPEC_CHANGED:
        return f"because {_changed_words(fields)} changed"
    if r is Reason.PARENT_CHANGED:
        parent = _parent_name(step)
        who = f"its parent {parent}" if parent else "its parent model"
        return f"because {who} will be retrained first"
    return _REASON_WORDS.get(r, f"({r.value})")


_REASON_WORDS = {
    Reason.NEW: "because it does not exist yet",
    Reason.DELETED_OUT_OF_BAND: "because its model was deleted outside ftctl",
    Reason.IN_FLIGHT_SPEC_MISMATCH: "because the job in progress was started from another spec",
    Reason.RETRY_FAILED: "because the last job failed and a retry was asked for",
    Reason.SUPERSEDED: "because newer versions replace it (lifecycle.keep_versions)",
    Reason.ORPHANED: "because no manifest names it any more",
    Reason.DUPLICATE: "because it duplicates another job for the same version",
    Reason.MISSING_FILE: "because the remote does not hold it yet",
}


def _parent_name(step: Step) -> str | None:
    payload = step.payload
    if isinstance(payload, CreateJob) and isinstance(payload.model, FromStep):
        return payload.model.key.split("/", 1)[0]
    return None


def _changed_words(fields: tuple[FieldChange, ...]) -> str:
    forcing = [f for f in fields if f.forces_new] or list(fields)
    words: list[str] = []
    for change in forcing:
        word = field_words(change.path)
        if word not in words:
            words.append(word)
    if not words:
        return "the spec"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def field_words(path: str) -> str:
    """A field path in words: `training_file` -> "the training file"."""
    if path in _FIELD_WORDS:
        return _FIELD_WORDS[path]
    if path.startswith("method.hyperparameters."):
        return path.rsplit(".", 1)[1]
    if path.startswith("method."):
        return "the training method"
    return path


def is_unknown(value: object) -> bool:
    """True for values known only after apply (UNKNOWN, or a FromStep reference)."""
    return value is UNKNOWN or isinstance(value, FromStep)


def summary_parts(counts: dict[str, int]) -> list[str]:
    """"1 to create", "0 to retrain", ... in the fixed order of the summary line."""
    parts = []
    for action in SUMMARY_ORDER:
        n = counts.get(action.value, 0)
        if n or action in _ALWAYS_SHOWN:
            parts.append(f"{n} to {action.value}")
    return parts


def summary_line(counts: dict[str, int]) -> str:
    return "Plan: " + ", ".join(summary_parts(counts)) + "."


NO_CHANGES = "No changes. Your models match the manifests."


def error_line(notes: Diagnostics) -> str:
    n = sum(1 for d in notes if d.is_error)
    return f"This plan has {n} error{'s' if n != 1 else ''} and cannot be applied."


def targets_line(targets: tuple[str, ...]) -> str:
    what = "what it depends on" if len(targets) == 1 else "what they depend on"
    return (
        f"This plan is limited to --target {', '.join(targets)} (and {what}); "
        "other changes may be pending."
    )


def cost_sentence(view: PlanView, *, bold: str = "") -> str | None:
    """"Estimated training cost: $1.23 for 45,000 training tokens." (None: no estimates).

    bold: Markdown emphasis around the amount (text passes "")."""
    if not any(c.estimate for c in view.changes):
        return None
    unpriced = ", ".join(view.unpriced)
    if len(view.unpriced) == sum(1 for c in view.changes if c.estimate):
        return f"Estimated training cost: {bold}unknown{bold} (no price for the base model)."
    line = (
        f"Estimated training cost: {bold}{format_cost(view.total_cost)}{bold} "
        f"for {view.total_tokens:,} training tokens"
    )
    if unpriced:
        line += f" (not counting {unpriced}: no price for the base model)"
    return line + "."


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "unknown"
    if 0 < cost < 0.005:
        return "under $0.01"
    return f"${cost:,.2f}"


def format_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def note_place(d: Diagnostic) -> str:
    """Where a note points ("file:line: name: "), leaving out a name its summary starts with."""
    where = ""
    if d.address and not d.summary.startswith(_address_name(d.address) + ":"):
        where = f"{d.address}: "
    if d.subject is not None:
        where = f"{d.subject}: {where}"
    return where


def severity_word(d: Diagnostic) -> str:
    return {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Note"}[
        d.severity
    ]


def format_value(value: object) -> str:
    """A field value as text and Markdown show it: JSON-like, unknowns spelled out."""
    if is_unknown(value):
        return UNKNOWN_TEXT
    if isinstance(value, str | int | float | bool) or value is None:
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(_plain(value), ensure_ascii=False, separators=(", ", ": "), default=str)


UNKNOWN_TEXT = "(known after apply)"


def _plain(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if is_unknown(value):
        return UNKNOWN_TEXT
    return value

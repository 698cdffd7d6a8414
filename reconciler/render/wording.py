"""The words of a plan: reasons as sentences, summary lines, values, costs and sizes.

Pure string helpers shared by the text, JSON and Markdown renderers (and drift), so every
format says the same thing the same way. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from reconciler.diagnostics import Diagnostic, Diagnostics, Severity
from reconciler.plan import (
    UNKNOWN,
    Action,
    CreateJob,
    DeployModel,
    Estimate,
    FieldChange,
    FromStep,
    Reason,
    RemoveDeployment,
    Step,
)

SUMMARY_ORDER = (Action.CREATE, Action.RETRAIN, Action.CONTINUE, Action.CANCEL, Action.DELETE,
                 Action.VERIFY, Action.DEPLOY, Action.UNDEPLOY)
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
    "method.grader": "the grader",
    "deployment.model": "the deployed version",
    "deployment.sku": "the deployment's sku",
    "deployment.capacity": "the deployment's capacity",
}


def describe(step: Step, fields: tuple[FieldChange, ...] = ()) -> str:
    """The header sentence for a model, Terraform's "must be replaced because ..."."""
    a, r = step.action, step.reason
    because = _because(step, fields)
    if a is Action.CREATE:
        if r is Reason.NEW:
            return "will be created"
        if r is Reason.IN_FLIGHT_SPEC_MISMATCH:
            return f"will be restarted {because}"
        if r in (Reason.DELETED_OUT_OF_BAND, Reason.RETRY_FAILED, Reason.CANCELLED):
            return f"will be created again {because}"
        return f"will be created {because}"
    if a is Action.RETRAIN:
        return f"must be retrained {because}"
    if a is Action.CONTINUE:
        return f"will continue training from its current model {because}"
    if a is Action.CANCEL:
        return f"will have its job cancelled {because}"
    if a is Action.DELETE and r is Reason.UNNEEDED:
        return "will have finished jobs of retired versions deleted (prune)"
    if a is Action.DELETE and r is Reason.ORPHANED:
        return f"will be deleted {because}"
    if a is Action.DELETE:
        return f"will have an old version deleted {because}"
    if a is Action.UPLOAD:
        return f"needs a dataset uploaded {because}"
    if a is Action.VERIFY:
        return _verify_words(step)
    if a is Action.DEPLOY:
        return _DEPLOY_WORDS.get(r, f"will be deployed {because}")
    if a is Action.UNDEPLOY:
        return f"will have a deployment removed {because}"
    return _NOOP_WORDS.get(r, "has no changes")


_DEPLOY_WORDS = {
    Reason.NEW: "will be deployed",
    Reason.NEW_VERSION: "will have its deployment moved to the version that should serve",
    Reason.DEPLOYMENT_CHANGED: "will have its deployment changed (sku or capacity)",
    Reason.DEPLOYMENT_MISSING: "will be deployed again because its deployment is gone",
}


_NOOP_WORDS = {
    Reason.UNCHANGED: "is up to date",
    Reason.IN_PROGRESS: "has a job in progress with this spec",
    Reason.FAILED: "has a failed latest job with this spec; it is not retried",
    Reason.CHECKS_FAILED: "has a newest version that failed its checks; it is not retrained "
                          "with this spec",
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
    Reason.CANCELLED: "because its last job was cancelled before it finished",
    Reason.SUPERSEDED: "because newer versions replace it (lifecycle.keep_versions)",
    Reason.ORPHANED: "because no manifest names it any more",
    Reason.DUPLICATE: "because it duplicates another job for the same version",
    Reason.MISSING_FILE: "because the remote does not hold it yet",
    Reason.DEPLOYMENT_CHANGED: "because the manifest no longer names it (spec.deployment)",
    Reason.UNNEEDED: "because no manifest, job in flight or kept version needs it",
}


def _verify_words(step: Step) -> str:
    version = getattr(step.payload, "version", None)
    # A gate without checks is an evaluation alone: say so rather than speak of checks.
    gate, verb = ("checks", "have") if getattr(step.payload, "checks", ()) else ("evaluation",
                                                                               "has")
    if step.reason is Reason.CHECKS_CHANGED:
        return f"will have version {version} checked again because its {gate} changed"
    return f"will have version {version} checked: it finished training, its {gate} {verb} not run"


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


def deployment_words(step: Step) -> str:
    """`deploy support-bot (GlobalStandard, capacity 1)` / `undeploy old-bot`, with when."""
    p = step.payload
    if isinstance(p, RemoveDeployment):
        return f"undeploy {p.deployment}" + (f" (serving {p.model_id})" if p.model_id else "")
    assert isinstance(p, DeployModel)
    line = f"deploy {p.deployment} ({p.sku}, capacity {p.capacity})"
    if isinstance(p.model_id, FromStep) or (p.job_id is not None and step.depends_on):
        line += "  # once the new version passes its checks"
    return line


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


def unsettled_line(names: tuple[str, ...]) -> str:
    """Nothing to carry out, yet some models are short of their manifests (see the notes)."""
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"No changes to carry out now, but {len(names)} model(s) do not match their "
            f"manifests yet: {listed} (see the notes).")


def error_line(notes: Diagnostics) -> str:
    n = sum(1 for d in notes if d.is_error)
    return f"This plan has {n} error{'s' if n != 1 else ''} and cannot be applied."


def targets_line(targets: tuple[str, ...]) -> str:
    what = "what it depends on" if len(targets) == 1 else "what they depend on"
    return (
        f"This plan is limited to --target {', '.join(targets)} (and {what}); "
        "other changes may be pending."
    )


def format_monthly(change: float | None) -> str:
    """A monthly hosting change with its sign: "+$1,241.00/month", "-$730.00/month"."""
    if change is None:
        return "unknown"
    sign = "-" if change < 0 else "+"
    amount = abs(change)
    # Hourly rates x 730 h are mostly whole dollars, shown as such ("+$1,241/month").
    figure = f"{amount:,.0f}" if amount == round(amount) else f"{amount:,.2f}"
    return f"{sign}${figure}/month"


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
    if d.address and not d.summary.startswith(address_name(d.address) + ":"):
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


def address_name(address: str) -> str:
    """The model name an address starts with (`bot.spec.method` -> `bot`)."""
    return address.split(".", 1)[0]


def unknown_cost_words(estimates: Iterable[Estimate | None]) -> str:
    """Why no cost could be given: tokens not counted, or no price for the base model."""
    if any(e is not None and e.training_tokens is None for e in estimates):
        return "tokens could not be counted for the base model"
    return "no price for the base model in ftctl.yaml"


def estimate_words(est: Estimate) -> str:
    """"520,000 training tokens, 4 epochs, est. $1.56" for one model."""
    parts = []
    if est.training_tokens is not None:
        parts.append(f"{est.training_tokens:,} training tokens")
    if est.epochs is not None:
        parts.append(f"{est.epochs} epoch{'s' if est.epochs != 1 else ''}")
    if est.cost_usd is not None:
        parts.append(f"est. {format_cost(est.cost_usd)}")
    else:
        parts.append(f"cost unknown ({unknown_cost_words([est])})")
    return ", ".join(parts)

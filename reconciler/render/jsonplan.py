"""The plan as JSON for machines (docs/plan-format.md): a stable, versioned display contract.

Pure: a Plan in, a str out. This is not the saved-plan format (planfile.py is). Keys come out
in a fixed order; bump JSON_FORMAT_VERSION only when a consumer would break.

Shape (format_version "1.0"):

    {
      "format_version": "1.0",
      "workspace": str,
      "snapshot_fingerprint": str,
      "has_changes": bool,
      "errored": bool,                  # an error note: this plan must not be applied
      "targets": [name, ...],           # --target names the plan was cut down to ([] = all)
      "changes": [                      # one per model name, sorted by name
        {
          "name": str,
          "action": "create" | "retrain" | "continue" | "cancel" | "delete" | "noop",
          "actions": [str, ...],        # every distinct step action, in plan order, e.g.
                                        # ["cancel", "create"]: look for "delete"/"cancel" here
          "reason": str,                # a code (plan.Reason), consumers must accept new ones
          "description": str,           # the same in words: "must be retrained because ..."
          "fields": [{"path", "before", "after", "after_unknown", "forces_retrain"}],
          "uploads": [{"path", "sha256", "bytes", "filename"}],
          "base_model": str | null, "base_model_unknown": bool, "version": int | null,
          "cancel_jobs": [job id, ...], "delete_models": [model id, ...],
          "delete_jobs": [job id, ...],  # prune: jobs of retired versions (Azure)
          "steps": [{"key", "action", "reason", "depends_on"}],
          "estimate": {"training_tokens", "epochs", "cost_usd"} | null,
          "monthly_hosting_usd": float | null  # its deployment steps' hosting change; null:
                                          # none, or not priced (then named in hosting_unpriced)
        }
      ],
      "uploads": [...],                 # uploads no model depends on (normally empty)
      "delete_files": [{"file_id", "filename", "bytes"}],  # dataset files nothing needs
      "summary": {"create": n, "retrain": n, "continue": n, "cancel": n, "delete": n,
                  "upload": n, "verify": n, "deploy": n, "undeploy": n, "noop": n},
      "estimate": {"training_tokens": int, "cost_usd": float, "unpriced": [name, ...],
                   "monthly_hosting_usd": float, "hosting_unpriced": [name, ...]},
      "diagnostics": [Diagnostic.to_json(), ...]
    }

Values known only after apply (a `{ref:}` child's base model) are written as null with the
matching `*_unknown` flag set to true, as Terraform's `after_unknown` does.
"""

from __future__ import annotations

import json

from reconciler.plan import (
    Action,
    DeployModel,
    Estimate,
    FieldChange,
    Plan,
    RemoveDeployment,
    Step,
    UploadFile,
)
from reconciler.render import planview as pv
from reconciler.render import wording as words

JSON_FORMAT_VERSION = "1.0"


def render_json(plan: Plan) -> str:
    """The plan as indented JSON text with a trailing newline."""
    return json.dumps(plan_document(plan), indent=2, ensure_ascii=False) + "\n"


def plan_document(plan: Plan) -> dict[str, object]:
    """The JSON document as plain Python values (for callers that embed it)."""
    view = pv.build(plan)
    return {
        "format_version": JSON_FORMAT_VERSION,
        "workspace": plan.workspace,
        "snapshot_fingerprint": plan.snapshot_fingerprint,
        "has_changes": view.has_changes,
        "converged": not view.has_changes and not view.unsettled,
        "unsettled": list(view.unsettled),
        "errored": view.has_errors,
        "targets": list(view.targets),
        "changes": [_change(c) for c in view.changes],
        "uploads": [_upload(u) for u in view.loose_uploads],
        "delete_files": [{"file_id": f.file_id, "filename": f.filename, "bytes": f.bytes}
                         for f in view.file_deletes],
        "summary": {a.value: view.counts.get(a.value, 0) for a in _SUMMARY_KEYS},
        "estimate": {
            "training_tokens": view.total_tokens,
            "cost_usd": _money(view.total_cost),
            "unpriced": list(view.unpriced),
            # The net change of the monthly bill of hosting deployments (Azure), apart from
            # training: + a new deployment, - one removed.
            "monthly_hosting_usd": _money(view.total_hosting),
            "hosting_unpriced": list(view.unpriced_hosting),
        },
        "diagnostics": [d.to_json() for d in plan.notes],
    }


_SUMMARY_KEYS = (
    Action.CREATE,
    Action.RETRAIN,
    Action.CONTINUE,
    Action.CANCEL,
    Action.DELETE,
    Action.UPLOAD,
    Action.VERIFY,
    Action.DEPLOY,
    Action.UNDEPLOY,
    Action.NOOP,
)


def _change(c: pv.ModelChange) -> dict[str, object]:
    job = c.create
    actions: list[str] = []
    for step in c.steps:
        if step.action.value not in actions:
            actions.append(step.action.value)
    return {
        "name": c.name,
        "action": c.action.value,
        "actions": actions,
        "reason": c.reason.value,
        "description": c.description,
        "fields": [_field(f) for f in c.fields],
        "uploads": [_upload(u) for u in c.uploads],
        "base_model": None if job is None else _value(job.model),
        "base_model_unknown": job is not None and words.is_unknown(job.model),
        "version": None if job is None else job.version,
        "cancel_jobs": list(c.cancels),
        "delete_models": list(c.deletes),
        "delete_jobs": list(c.deleted_jobs),
        "verify_models": [v.model_id for v in c.verifies],
        "steps": [_step(s) for s in c.steps],
        "estimate": _estimate(c.estimate),
        # Only where the model has deployment steps (Azure): other plans keep their shape.
        **({"deployments": [_deployment(s) for s in c.deployments]} if c.deployments else {}),
        "monthly_hosting_usd": (None if not c.hosted or c.monthly_hosting is None
                                else _money(c.monthly_hosting)),
    }


def _deployment(s: Step) -> dict[str, object]:
    """A deploy or undeploy step: the deployment, what it serves after, and its diffs."""
    p = s.payload
    if isinstance(p, RemoveDeployment):
        return {"action": s.action.value, "reason": s.reason.value, "deployment": p.deployment,
                "model": None, "model_unknown": False, "current_model": p.model_id,
                "sku": None, "capacity": None, "fields": [_field(f) for f in s.changes]}
    assert isinstance(p, DeployModel)
    return {"action": s.action.value, "reason": s.reason.value, "deployment": p.deployment,
            "model": _value(p.model_id), "model_unknown": words.is_unknown(p.model_id),
            "current_model": p.current_model, "sku": p.sku, "capacity": p.capacity,
            "fields": [_field(f) for f in s.changes]}


def _field(f: FieldChange) -> dict[str, object]:
    return {
        "path": f.path,
        "before": _value(f.before),
        "after": _value(f.after),
        "after_unknown": words.is_unknown(f.after),
        "forces_retrain": f.forces_new,
    }


def _upload(u: UploadFile) -> dict[str, object]:
    return {"path": u.repo_path, "sha256": u.sha256, "bytes": u.bytes, "filename": u.filename}


def _step(s: Step) -> dict[str, object]:
    return {
        "key": s.key,
        "action": s.action.value,
        "reason": s.reason.value,
        "depends_on": list(s.depends_on),
    }


def _estimate(e: Estimate | None) -> dict[str, object] | None:
    if e is None:
        return None
    return {
        "training_tokens": e.training_tokens,
        "epochs": e.epochs,
        "cost_usd": None if e.cost_usd is None else _money(e.cost_usd),
    }


def _money(cost: float) -> float:
    # Rounded so float noise (0.1 + 0.2) never shows up in a diffable document.
    return round(cost, 6)


def _value(value: object) -> object:
    """A JSON-safe value; unknowns become null (their flag says so)."""
    if words.is_unknown(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    return str(value)

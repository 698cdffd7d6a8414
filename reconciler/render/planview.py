"""A plan regrouped per model for display: one ModelChange per name, with its reason in words.

Pure and shared by the text, JSON and Markdown renderers, so all three tell the same story.
No I/O. Steps are grouped by `Step.name`; upload steps join the models whose steps depend on
them (a dataset shared by two models is listed under both).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.diagnostics import Diagnostic, Diagnostics
from reconciler.plan import (
    Action,
    CancelJob,
    CreateJob,
    DeleteFile,
    DeleteJob,
    DeleteModel,
    DeployModel,
    Estimate,
    FieldChange,
    FromStep,
    Plan,
    Reason,
    RemoveDeployment,
    Step,
    UploadFile,
    VerifyModel,
)
from reconciler.render import wording as words

# Which step decides a model's headline action when it has several (cancel + create, ...).
_PRIORITY = (
    Action.RETRAIN,
    Action.CONTINUE,
    Action.CREATE,
    Action.VERIFY,
    Action.DEPLOY,
    Action.DELETE,
    Action.UNDEPLOY,
    Action.CANCEL,
    Action.UPLOAD,
    Action.NOOP,
)
# Deployment steps: their field diffs are shown with them, their estimate is a hosting change.
_DEPLOYMENT_ACTIONS = (Action.DEPLOY, Action.UNDEPLOY)


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
    estimate: Estimate | None  # training
    notes: Diagnostics
    # The monthly hosting change of its deployment steps (None: one of them is not priced);
    # hosted False: it has no deployment step, so nothing to say about hosting.
    monthly_hosting: float | None = 0.0
    hosted: bool = False

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
    def deleted_jobs(self) -> tuple[str, ...]:
        return tuple(s.payload.job_id for s in self.steps if isinstance(s.payload, DeleteJob))

    @property
    def verifies(self) -> tuple[VerifyModel, ...]:
        return tuple(s.payload for s in self.steps if isinstance(s.payload, VerifyModel))

    @property
    def deployments(self) -> tuple[Step, ...]:
        """Its deploy and undeploy steps (Azure), each shown with its own field diffs."""
        return tuple(s for s in self.steps if isinstance(s.payload, DeployModel | RemoveDeployment))

    @property
    def undeploys(self) -> tuple[str, ...]:
        """Names of the deployments it removes (they stop serving)."""
        return tuple(s.payload.deployment for s in self.steps
                     if isinstance(s.payload, RemoveDeployment))

    @property
    def create(self) -> CreateJob | None:
        return next((s.payload for s in self.steps if isinstance(s.payload, CreateJob)), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    workspace: str
    changes: tuple[ModelChange, ...]  # sorted by name; NOOP-only models included
    loose_uploads: tuple[UploadFile, ...]  # uploads no model step depends on
    file_deletes: tuple[DeleteFile, ...]  # dataset files nothing needs any more (cleanup)
    notes: Diagnostics  # every plan note, in plan order
    counts: dict[str, int]
    has_changes: bool
    unsettled: tuple[str, ...] = ()  # names short of their manifest with nothing to carry out
    has_errors: bool = False
    targets: tuple[str, ...] = ()

    @property
    def active(self) -> tuple[ModelChange, ...]:
        """Changes that do something (NOOP-only models left out)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def destructive(self) -> tuple[ModelChange, ...]:
        return tuple(c for c in self.changes
                     if c.cancels or c.deletes or c.undeploys or c.deleted_jobs)

    @property
    def hosted(self) -> tuple[ModelChange, ...]:
        """Changes with deployment steps (whose hosting the plan reports)."""
        return tuple(c for c in self.changes if c.hosted)

    @property
    def total_hosting(self) -> float:
        """The plan's net change of the monthly hosting bill, priced steps only."""
        return round(sum((c.monthly_hosting or 0.0 for c in self.hosted), 0.0), 2)

    @property
    def unpriced_hosting(self) -> tuple[str, ...]:
        """Names with a deployment step whose hosting is not priced."""
        return tuple(c.name for c in self.hosted if c.monthly_hosting is None)

    @property
    def total_tokens(self) -> int:
        return sum(e.training_tokens or 0 for e in self._estimates())

    @property
    def total_cost(self) -> float:
        return sum(e.cost_usd or 0.0 for e in self._estimates())

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Names whose estimate has no cost (no price, or tokens not counted)."""
        return tuple(c.name for c in self.changes if c.estimate and c.estimate.cost_usd is None)

    def _estimates(self) -> Iterable[Estimate]:
        return (c.estimate for c in self.changes if c.estimate is not None)


def build(plan: Plan) -> PlanView:
    """Group the plan's steps per model name (linear in the plan's size)."""
    uploads = _Uploads.of(plan)
    by_name: dict[str, list[Step]] = {}
    for step in plan.steps:
        if not isinstance(step.payload, UploadFile | DeleteFile):
            by_name.setdefault(step.name, []).append(step)
    notes: dict[str, list[Diagnostic]] = {}
    for d in plan.notes:
        if d.address:
            notes.setdefault(words.address_name(d.address), []).append(d)
    used: set[str] = set()
    changes = []
    for name in sorted(by_name):
        steps = tuple(by_name[name])
        keys = _upload_keys(steps, uploads, name)
        used.update(keys)
        files = tuple(_upload(uploads.steps[k]) for k in keys)
        changes.append(_model_change(name, steps, files, tuple(notes.get(name, ()))))
    loose = tuple(_upload(s) for k, s in uploads.steps.items() if k not in used)
    return PlanView(
        workspace=plan.workspace,
        changes=tuple(changes),
        loose_uploads=loose,
        file_deletes=tuple(s.payload for s in plan.steps if isinstance(s.payload, DeleteFile)),
        notes=plan.notes,
        counts=plan.summary(),
        has_changes=plan.has_changes,
        unsettled=tuple(sorted({s.name for s in plan.unsettled})),
        has_errors=any(d.is_error for d in plan.notes),
        targets=plan.targets,
    )


def _upload(step: Step) -> UploadFile:
    assert isinstance(step.payload, UploadFile)
    return step.payload


def _upload_keys(steps: tuple[Step, ...], uploads: _Uploads, name: str) -> list[str]:
    """Upload steps this model's steps depend on, or that carry its name; in plan order."""
    wanted = {d for s in steps for d in s.depends_on if d in uploads.steps}
    for step in steps:
        if isinstance(step.payload, CreateJob):
            wanted.update(k for k in _from_step_keys(step.payload) if k in uploads.steps)
    wanted.update(uploads.by_name.get(name, ()))
    return sorted(wanted, key=uploads.order.__getitem__)


@dataclass(frozen=True, slots=True)
class _Uploads:
    steps: dict[str, Step]  # key -> upload step
    by_name: dict[str, list[str]]  # step name -> upload keys
    order: dict[str, int]  # key -> position in the plan

    @classmethod
    def of(cls, plan: Plan) -> _Uploads:
        steps = {s.key: s for s in plan.steps if isinstance(s.payload, UploadFile)}
        by_name: dict[str, list[str]] = {}
        for step in steps.values():
            by_name.setdefault(step.name, []).append(step.key)
        return cls(steps=steps, by_name=by_name, order={k: i for i, k in enumerate(steps)})


def _from_step_keys(job: CreateJob) -> set[str]:
    values = (job.training_file, job.validation_file)
    return {v.key for v in values if isinstance(v, FromStep)}


def _model_change(
    name: str, steps: tuple[Step, ...], uploads: tuple[UploadFile, ...], notes: Diagnostics
) -> ModelChange:
    present = {s.action for s in steps}
    action = next(a for a in _PRIORITY if a in present)
    main = next(s for s in steps if s.action is action)
    fields = _fields(main, steps)
    estimate = next((s.estimate for s in steps
                     if s.estimate is not None and s.action not in _DEPLOYMENT_ACTIONS), None)
    hosting = [s.estimate.monthly_hosting_usd if s.estimate else None
               for s in steps if s.action in _DEPLOYMENT_ACTIONS]
    return ModelChange(
        name=name,
        action=action,
        reason=main.reason,
        description=words.describe(main, fields),
        steps=steps,
        fields=fields,
        uploads=uploads,
        estimate=estimate,
        notes=notes,
        monthly_hosting=None if None in hosting else round(sum(h or 0.0 for h in hosting), 2),
        hosted=bool(hosting),
    )


def _fields(main: Step, steps: tuple[Step, ...]) -> tuple[FieldChange, ...]:
    """The model's own field diffs (a deployment step's are shown with that step)."""
    if main.action in _DEPLOYMENT_ACTIONS:
        return ()
    # A cancel-and-recreate carries the same diff on both steps: show it once.
    own = [s for s in steps if s.action not in _DEPLOYMENT_ACTIONS]
    source = main if main.changes else next((s for s in own if s.changes), main)
    seen: set[tuple[str, str, str, bool]] = set()
    out: list[FieldChange] = []
    for change in source.changes:
        key = (change.path, repr(change.before), repr(change.after), change.forces_new)
        if key not in seen:
            seen.add(key)
            out.append(change)
    return tuple(out)


def cost_sentence(view: PlanView, *, bold: str = "") -> str | None:
    """"Estimated training cost: $1.23 for 45,000 training tokens." (None: no estimates).

    bold: Markdown emphasis around the amount (text passes "")."""
    estimated = [c for c in view.changes if c.estimate is not None]
    if not estimated:
        return None
    if len(view.unpriced) == len(estimated):
        why = words.unknown_cost_words(c.estimate for c in estimated)
        return f"Estimated training cost: {bold}unknown{bold} ({why})."
    line = (
        f"Estimated training cost: {bold}{words.format_cost(view.total_cost)}{bold} "
        f"for {view.total_tokens:,} training tokens"
    )
    if view.unpriced:
        line += f" (not counting {', '.join(view.unpriced)}: cost unknown)"
    return line + "."


def hosting_sentence(view: PlanView, *, bold: str = "") -> str | None:
    """"Monthly hosting change: +$1,241.00/month." (None: no deployment steps).

    Hosting is billed every hour a deployment exists, apart from the training cost."""
    hosted = view.hosted
    if not hosted:
        return None
    unpriced = view.unpriced_hosting
    if len(unpriced) == len(hosted):
        return (f"Monthly hosting change: {bold}unknown{bold} (no hosting_per_hour in the "
                "price table for the deployed models' base model or sku).")
    line = f"Monthly hosting change: {bold}{words.format_monthly(view.total_hosting)}{bold}"
    if unpriced:
        line += f" (not counting {', '.join(unpriced)}: hosting not priced)"
    return line + "."

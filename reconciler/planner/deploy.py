"""The planner's deployment steps (Azure): deploy, move, resize and undeploy a model's
deployment, after the model's own steps are decided.

Pure, no I/O; part of the planner. Only on a provider with deployments. The deployment
serves what the model will serve after this plan: the version a create step of this plan
trains (deployed once its gate passed: create-before-destroy), the version a verify step of
this plan checks (moved to once it passed), or else the promoted version. Retiring a model
waits for its deployment steps (Azure refuses to delete a deployed model). A deployment of the
manifest's name that serves a model of no version of this workspace is someone else's: it is
reported as an error at the manifest's `deployment` line and never changed.
"""

from __future__ import annotations

import dataclasses

from reconciler import diagnostics as diag
from reconciler.plan import (
    UNKNOWN,
    Action,
    DeleteModel,
    DeployModel,
    FieldChange,
    FromStep,
    Reason,
    RemoveDeployment,
    Step,
    VerifyModel,
)
from reconciler.planner.state import ModelState
from reconciler.planner.steps import MODEL_FIELD, Ctx
from reconciler.snapshot import RemoteDeployment
from reconciler.spec import Deployment, Manifest

_JOB_FIELD = "job_id"


def plan_deployment(ctx: Ctx, manifest: Manifest, state: ModelState, *, since: int) -> None:
    """The deployment steps of one manifest, appended to ctx.steps (nothing off Azure).
    since: where the model's own steps begin in ctx.steps (only those are looked at, so a
    plan of many models stays linear)."""
    if not ctx.state.with_deployments:
        return
    keys = [undeploy(ctx, manifest.name, stray) for stray in state.strays]
    wanted = manifest.spec.deployment
    if wanted is not None:
        key = _deploy(ctx, manifest, state, wanted, since)
        keys.extend([key] if key else [])
    _retire_after(ctx, manifest.name, tuple(keys), since)


def plan_orphan_deployments(ctx: Ctx, *, since: int) -> None:
    """Pruned orphans (their manifest is gone, `prune: true`) lose their deployments first:
    Azure refuses to delete a deployed model. since: where the orphans' steps begin."""
    if not ctx.state.with_deployments:
        return
    pruned = {s.name for s in ctx.steps[since:] if s.reason is Reason.ORPHANED}
    for name in ctx.state.orphans:
        if name in pruned:
            keys = [undeploy(ctx, name, d, Reason.ORPHANED) for d in ctx.state[name].strays]
            _retire_after(ctx, name, tuple(keys), since)


def undeploy(ctx: Ctx, name: str, found: RemoteDeployment,
             reason: Reason = Reason.DEPLOYMENT_CHANGED) -> str:
    """A step removing deployment `found` (its manifest, or its spec.deployment, is gone)."""
    key = f"{name}/undeploy/{found.name}"
    ctx.steps.append(Step(
        key=key, action=Action.UNDEPLOY, name=name, reason=reason,
        payload=RemoveDeployment(deployment=found.name, model_id=found.model),
        changes=(FieldChange(path="deployment.name", before=found.name, after=None),),
    ))
    return key


def _deploy(ctx: Ctx, manifest: Manifest, state: ModelState, wanted: Deployment,
            since: int) -> str | None:
    foreign = state.foreign_deployment
    if foreign is not None:
        ctx.notes.append(diag.error(
            f"{manifest.name}: deployment {foreign.name!r} already exists and serves "
            f"{foreign.model}, which is not a model of workspace {ctx.desired.settings.workspace}",
            "ftctl never changes a deployment it did not make; give spec.deployment.name "
            "another name, or remove that deployment yourself.",
            address=manifest.name, subject=wanted.source or manifest.source,
        ))
        return None
    target = _target(ctx, manifest.name, state, since)
    if target is None:
        return None
    model, job, after = target
    current = state.deployment
    changes = _changes(current, wanted, model)
    if current is not None and not changes and current.ready:
        return None
    if current is None:
        # Gone while a version that passed exists: deleted out of band (or by Azure).
        reason = Reason.NEW if state.promoted is None else Reason.DEPLOYMENT_MISSING
    elif any(c.path == "deployment.model" for c in changes):
        reason = Reason.NEW_VERSION
    else:
        reason = Reason.DEPLOYMENT_CHANGED if changes else Reason.DEPLOYMENT_MISSING
    key = f"{manifest.name}/deploy/{wanted.name}"
    ctx.steps.append(Step(
        key=key, action=Action.DEPLOY, name=manifest.name, reason=reason,
        payload=DeployModel(name=manifest.name, deployment=wanted.name, model_id=model,
                            sku=wanted.sku.value, capacity=wanted.capacity,
                            current_model=current.model if current else None, job_id=job),
        changes=changes, depends_on=after,
    ))
    return key


Target = tuple[str | FromStep, str | FromStep | None, tuple[str, ...]]


def _target(ctx: Ctx, name: str, state: ModelState, since: int) -> Target | None:
    """(model, its job, steps to wait for) of what should serve after this plan."""
    for step in ctx.steps[since:]:
        if step.name != name:
            continue
        if step.key == f"{name}/create-job":
            return (FromStep(key=step.key, field=MODEL_FIELD),
                    FromStep(key=step.key, field=_JOB_FIELD), (step.key,))
        if isinstance(step.payload, VerifyModel):
            return step.payload.model_id, step.payload.job_id, (step.key,)
    promoted = state.promoted
    if promoted is None or promoted.model_id is None:
        return None
    return promoted.model_id, promoted.job.id, ()


def _changes(current: RemoteDeployment | None, wanted: Deployment,
             model: str | FromStep) -> tuple[FieldChange, ...]:
    """Field diffs of the deployment, in manifest vocabulary (`deployment.model`, ...)."""
    after_model: object = model if isinstance(model, str) else UNKNOWN
    if current is None:
        return (FieldChange(path="deployment.model", before=None, after=after_model),)
    out = []
    if isinstance(model, FromStep) or current.model != model:
        out.append(FieldChange(path="deployment.model", before=current.model, after=after_model))
    if current.sku.lower() != wanted.sku.value.lower():
        out.append(FieldChange(path="deployment.sku", before=current.sku,
                               after=wanted.sku.value))
    if current.capacity != wanted.capacity:
        out.append(FieldChange(path="deployment.capacity", before=current.capacity,
                               after=wanted.capacity))
    return tuple(out)


def _retire_after(ctx: Ctx, name: str, keys: tuple[str, ...], since: int) -> None:
    """Deleting a version of `name` waits for its deployment steps: Azure refuses to delete a
    deployed model, and the old version serves until the deployment has moved."""
    if not keys:
        return
    for i in range(since, len(ctx.steps)):
        step = ctx.steps[i]
        if step.name == name and isinstance(step.payload, DeleteModel) \
                and step.key not in keys:
            deps = tuple(dict.fromkeys((*step.depends_on, *keys)))
            ctx.steps[i] = dataclasses.replace(step, depends_on=deps)

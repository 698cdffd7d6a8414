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


def plan_deployment(ctx: Ctx, manifest: Manifest, state: ModelState) -> None:
    """The deployment steps of one manifest, appended to ctx.steps (nothing off Azure)."""
    if not ctx.state.with_deployments:
        return
    keys = [undeploy(ctx, manifest.name, stray) for stray in state.strays]
    wanted = manifest.spec.deployment
    if wanted is not None:
        key = _deploy(ctx, manifest, state, wanted)
        keys.extend([key] if key else [])
    _retire_after(ctx, manifest.name, tuple(keys))


def plan_orphan_deployments(ctx: Ctx) -> None:
    """Pruned orphans (their manifest is gone, `prune: true`) lose their deployments first:
    Azure refuses to delete a deployed model."""
    if not ctx.state.with_deployments:
        return
    for name in ctx.state.orphans:
        pruned = any(s.name == name and s.reason is Reason.ORPHANED for s in ctx.steps)
        if pruned:
            keys = [undeploy(ctx, name, d, Reason.ORPHANED) for d in ctx.state[name].strays]
            _retire_after(ctx, name, tuple(keys))


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


def _deploy(ctx: Ctx, manifest: Manifest, state: ModelState, wanted: Deployment) -> str | None:
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
    target = _target(ctx, manifest.name, state)
    if target is None:
        return None
    model, job, after, fresh = target
    current = state.deployment
    changes = _changes(current, wanted, model)
    if current is not None and not changes and current.ready:
        return None
    if current is None:
        reason = Reason.NEW if fresh else Reason.DEPLOYMENT_MISSING
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


Target = tuple[str | FromStep, str | FromStep | None, tuple[str, ...], bool]


def _target(ctx: Ctx, name: str, state: ModelState) -> Target | None:
    """(model, its job, steps to wait for, made by this plan) of what should serve."""
    for step in ctx.steps:
        if step.name != name:
            continue
        if step.key == f"{name}/create-job":
            return (FromStep(key=step.key, field=MODEL_FIELD),
                    FromStep(key=step.key, field=_JOB_FIELD), (step.key,), True)
        if isinstance(step.payload, VerifyModel):
            p = step.payload
            return p.model_id, p.job_id, (step.key,), state.promoted is None
    promoted = state.promoted
    if promoted is None or promoted.model_id is None:
        return None
    return promoted.model_id, promoted.job.id, (), False


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


def _retire_after(ctx: Ctx, name: str, keys: tuple[str, ...]) -> None:
    """Deleting a version of `name` waits for its deployment steps: Azure refuses to delete a
    deployed model, and the old version serves until the deployment has moved."""
    if not keys:
        return
    for i, step in enumerate(ctx.steps):
        if step.name == name and isinstance(step.payload, DeleteModel) \
                and step.key not in keys:
            deps = tuple(dict.fromkeys((*step.depends_on, *keys)))
            ctx.steps[i] = dataclasses.replace(step, depends_on=deps)

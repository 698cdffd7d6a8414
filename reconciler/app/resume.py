"""Finishing what an earlier apply started: which jobs it left training (apply follows them
alongside its own work), and retiring older versions once the current one passes its checks.

An apply that returned early (--no-wait), was interrupted or was killed leaves jobs running and
older versions in place. No state records whether a version passed its checks, so the planner
keeps surplus versions of a model with checks; here apply runs those checks against the current
version and, when they pass, adds the retiring deletes to the plan (shown before confirmation).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from reconciler.checks import run_checks
from reconciler.client.api import RemoteApi
from reconciler.events import CheckResult
from reconciler.executor.run import Verify
from reconciler.plan import Action, DeleteModel, NoChange, Plan, Reason, Step
from reconciler.planner.compare import managed_jobs_by_name, versions_for
from reconciler.snapshot import RemoteJob, Snapshot
from reconciler.spec import Check, Desired


def in_progress(plan: Plan) -> dict[str, str]:
    """{job id: name} of the jobs the plan reports as still training."""
    return {
        s.payload.job_id: s.name
        for s in plan.steps
        if s.reason is Reason.IN_PROGRESS and isinstance(s.payload, NoChange) and s.payload.job_id
    }


def retire_verified(
    api: RemoteApi,
    desired: Desired,
    snapshot: Snapshot,
    plan: Plan,
    known: Mapping[str, bool],
    *,
    verify: Verify | None = None,
) -> tuple[Plan, tuple[CheckResult, ...]]:
    """Add deletes for surplus versions of unchanged models whose current version passes its
    gate (known: verdicts already reached in this apply; verify: the gate, default the checks
    alone). Returns the plan and new results."""
    groups = managed_jobs_by_name(snapshot)
    planned = {s.name for s in plan.changes}
    added: list[Step] = []
    checks: list[CheckResult] = []
    for step in plan.steps:
        manifest = desired.manifest(step.name)
        if step.reason is not Reason.UNCHANGED or manifest is None or step.name in planned:
            continue
        lifecycle = manifest.spec.lifecycle
        versions = versions_for(step.name, manifest, groups, snapshot)
        surplus = versions.existing[max(1, lifecycle.keep_versions):]
        current = versions.current
        if not manifest.spec.gated or not surplus or lifecycle.prevent_destroy or not current:
            continue
        passed = known.get(step.name)
        if passed is None:
            model = str(current.fine_tuned_model)
            found = (verify or _checks_only(api))(step.name, model, manifest.spec.checks,
                                                   current.model)
            checks.extend(found)
            passed = all(c.passed for c in found)
        if passed:
            added.extend(_delete(step.name, job) for job in surplus)
    if not added:
        return plan, tuple(checks)
    return dataclasses.replace(plan, steps=(*plan.steps, *added)), tuple(checks)


def _checks_only(api: RemoteApi) -> Verify:
    def verify(name: str, model: str, checks: Sequence[Check], base: str | None
               ) -> tuple[CheckResult, ...]:
        return run_checks(api, name, model, checks, base_model=base)
    return verify


def _delete(name: str, job: RemoteJob) -> Step:
    model_id = job.fine_tuned_model or ""
    return Step(key=f"{name}/delete/{model_id}", action=Action.DELETE, name=name,
                reason=Reason.SUPERSEDED, payload=DeleteModel(model_id=model_id, job_id=job.id))

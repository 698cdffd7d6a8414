"""Saved-plan files of Azure's steps, pinned literally: cleanup (a job delete under prune, a
dataset-file delete waiting for the model delete of the job naming it, a step's monthly
hosting change in its estimate) and deployments (deploy and undeploy payloads)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from reconciler import __version__, planfile
from reconciler.plan import DeleteFile, DeleteJob, DeployModel, Estimate, RemoveDeployment


def test_cleanup_steps_and_hosting_are_saved_literally_and_round_trip(
    cases: ModuleType, golden: Callable[[str, str], None], tmp_path: Path,
) -> None:
    plan = cases.azure_cleanup()
    retire = plan.steps[2]
    hosted = dataclasses.replace(retire, estimate=Estimate(
        training_tokens=None, epochs=None, cost_usd=None, monthly_hosting_usd=-1241.0))
    plan = dataclasses.replace(plan, steps=(*plan.steps[:2], hosted, *plan.steps[3:]))
    assert {type(s.payload) for s in plan.steps} >= {DeleteJob, DeleteFile}
    path = tmp_path / "plan.json"
    planfile.save(plan, str(path))
    assert planfile.load(str(path)) == plan
    text = path.read_text(encoding="utf-8")
    golden("planfile/azure_cleanup.json",
           text.replace(f'"ftctl_version": "{__version__}"', '"ftctl_version": "(this ftctl)"'))


def test_deployment_steps_are_saved_literally_and_round_trip(
    cases: ModuleType, golden: Callable[[str, str], None], tmp_path: Path,
) -> None:
    """Deploy (a move whose model comes from the retrain, a restore, a resize) and undeploy."""
    plan = cases.azure_deployments()
    assert {type(s.payload) for s in plan.steps} >= {DeployModel, RemoveDeployment}
    path = tmp_path / "plan.json"
    planfile.save(plan, str(path))
    assert planfile.load(str(path)) == plan
    text = path.read_text(encoding="utf-8")
    golden("planfile/azure_deployments.json",
           text.replace(f'"ftctl_version": "{__version__}"', '"ftctl_version": "(this ftctl)"'))

"""Saved-plan files of Azure's steps, pinned literally: cleanup (a job delete under prune, a
dataset-file delete waiting for the model delete of the job naming it, a step's monthly
hosting change in its estimate) and deployments (deploy and undeploy payloads)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from reconciler import planfile
from reconciler.plan import (
    DeleteFile,
    DeleteJob,
    DeployModel,
    Estimate,
    Plan,
    RemoveDeployment,
)


def test_cleanup_steps_and_hosting_are_saved_literally_and_round_trip(
    cases: ModuleType, planfile_golden: Callable[[str, str], None], tmp_path: Path,
) -> None:
    plan = cases.azure_cleanup()
    retire = plan.steps[2]
    hosted = dataclasses.replace(retire, estimate=Estimate(
        training_tokens=None, epochs=None, cost_usd=None, monthly_hosting_usd=-1241.0))
    plan = dataclasses.replace(plan, steps=(*plan.steps[:2], hosted, *plan.steps[3:]))
    assert {type(s.payload) for s in plan.steps} >= {DeleteJob, DeleteFile}
    planfile_golden("planfile/azure_cleanup.json", _saved_and_read_back(plan, tmp_path))


def test_deployment_steps_are_saved_literally_and_round_trip(
    cases: ModuleType, planfile_golden: Callable[[str, str], None], tmp_path: Path,
) -> None:
    """Deploy (a move whose model comes from the retrain, a restore, a resize) and undeploy."""
    plan = cases.azure_deployments()
    assert {type(s.payload) for s in plan.steps} >= {DeployModel, RemoveDeployment}
    planfile_golden("planfile/azure_deployments.json", _saved_and_read_back(plan, tmp_path))


def _saved_and_read_back(plan: Plan, tmp_path: Path) -> str:
    """The saved file's text, once loading it gave back the same plan."""
    path = tmp_path / "plan.json"
    planfile.save(plan, str(path))
    assert planfile.load(str(path)) == plan
    return path.read_text(encoding="utf-8")

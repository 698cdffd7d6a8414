"""Upgrading ftctl never retrains anything by itself, end to end.

The jobs are created on the project's local emulator with exactly the bodies and metadata
ftctl 0.1.0 sent (tests/fixtures/identity/legacy-jobs.json, literal: spec scheme 1). The
current ftctl then plans the unchanged project: "No changes". A genuine edit still shows as
a field diff of that one model.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from planner_projects import wait_until_settled

from reconciler.cli import main
from reconciler.cli.provider import open_remote
from reconciler.client import RemoteApi
from reconciler.planner.identity import file_name
from reconciler.spec import Settings

FIXTURE = Path(__file__).parents[1] / "fixtures" / "identity"
WORKSPACE = "identity-golden"


def ftctl(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(root), *args])


def _resolve(value: Any, files: dict[str, str], models: dict[str, str]) -> Any:
    if isinstance(value, dict) and "dataset" in value:
        return files[value["dataset"]]
    if isinstance(value, dict) and "ref" in value:
        return models[value["ref"]]
    return value


def _deploy_as_0_1_0(root: Path, api: RemoteApi) -> None:
    """What `ftctl apply` of 0.1.0 left on the provider: its uploads and its jobs, succeeded."""
    bodies: dict[str, dict[str, Any]] = json.loads((root / "legacy-jobs.json").read_text())["jobs"]
    files: dict[str, str] = {}
    for path in sorted({b[k]["dataset"] for b in bodies.values()
                        for k in ("training_file", "validation_file") if k in b}):
        sha = hashlib.sha256((root / path).read_bytes()).hexdigest()
        files[path] = api.upload_file(str(root / path), filename=file_name(sha)).id
    models: dict[str, str] = {}
    # Parents first: a {ref:} body names its parent's fine-tuned model.
    for name in sorted(bodies, key=lambda n: isinstance(bodies[n]["model"], dict)):
        body = {k: _resolve(v, files, models) for k, v in bodies[name].items()}
        api.create_job(body)
        wait_until_settled(api)
        (job,) = [j for j in api.list_jobs() if dict(j.metadata).get("ftctl-name") == name]
        assert job.fine_tuned_model, (name, job.status, job.error_message)
        models[name] = job.fine_tuned_model


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    settings = root / "ftctl.yaml"
    settings.write_text(settings.read_text().replace("  type: local\n",
                                                     "  type: local\n  speed: 5000\n"))
    with open_remote(Settings(workspace=WORKSPACE, root=str(root))) as api:
        _deploy_as_0_1_0(root, api)
    return root


def test_jobs_of_the_previous_scheme_plan_no_training(upgraded: Path) -> None:
    doc = json.loads(ftctl(upgraded, "plan", "--format", "json").stdout)
    # 0.1.0 recorded no checks verdicts: the one model with checks is verified (once, its
    # verdict then recorded on the provider), nothing is trained or deleted.
    assert [(c["name"], c["actions"]) for c in doc["changes"] if c["actions"] != ["noop"]
            ] == [("sft-full", ["verify"])]
    result = ftctl(upgraded, "apply", "--auto-approve")
    assert result.exit_code == 0, result.stdout + result.stderr
    again = ftctl(upgraded, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


def test_a_genuine_edit_after_the_upgrade_is_a_field_diff(upgraded: Path) -> None:
    manifest = upgraded / "models" / "models.yaml"
    manifest.write_text(manifest.read_text().replace("n_epochs: 3, batch_size: 8",
                                                     "n_epochs: 4, batch_size: 8"))
    result = ftctl(upgraded, "plan", "--format", "json", "--detailed-exitcode")
    assert result.exit_code == 2, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    changed = [c for c in doc["changes"] if c["action"] != "noop"]
    assert [c["name"] for c in changed] == ["sft-full"]
    assert [f["path"] for f in changed[0]["fields"]] == ["method.hyperparameters.n_epochs"]

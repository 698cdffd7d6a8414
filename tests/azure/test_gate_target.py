"""What the gate asks a version through on Azure (app.gate_target): the manifest's deployment
when it serves that version, otherwise a temporary DeveloperTier deployment that exists only
while the gate runs, and is deleted even when the gate fails."""

from __future__ import annotations

import contextlib

import pytest

from reconciler.app import project as app_project
from reconciler.app.gate_target import asking
from reconciler.client import connect
from reconciler.client.api import RemoteApi
from reconciler.observe import observe
from reconciler.planner.state import ModelState, build_state

from .conftest import CHECK_PROMPT, ENV, Arm, AzureProject


def _state_and_api(project: AzureProject) -> tuple[ModelState, RemoteApi]:
    loaded = app_project.load(str(project.root), None, with_datasets=False)
    assert loaded.desired is not None
    api = connect(loaded.desired.settings, ENV)
    return build_state(loaded.desired, observe(api, loaded.desired))["alpha"], api


def test_a_version_no_deployment_serves_is_asked_through_a_temporary_one(
    project: AzureProject, arm: Arm,
) -> None:
    project.model("alpha")
    code, out = project.run("apply", "--auto-approve")
    assert code == 0, out
    deployed = arm.model("alpha")
    arm.delete("alpha")  # nothing serves the version now
    state, api = _state_and_api(project)
    seen: list[tuple[str, str]] = []
    with contextlib.closing(api), asking(api, state) as caller:
        answer = caller.chat(str(deployed), [{"role": "user", "content": CHECK_PROMPT}])
        temporary = arm.get("alpha-ftctl-verify")
        assert temporary is not None
        seen.append((temporary["sku"]["name"], temporary["properties"]["model"]["name"]))
    assert "alpha answer" in answer
    assert seen == [("DeveloperTier", deployed)]
    assert arm.names() == []


def test_the_temporary_deployment_goes_when_the_gate_fails(project: AzureProject,
                                                           arm: Arm) -> None:
    project.model("alpha")
    code, out = project.run("apply", "--auto-approve")
    assert code == 0, out
    deployed = str(arm.model("alpha"))
    arm.delete("alpha")
    state, api = _state_and_api(project)
    with contextlib.closing(api), pytest.raises(RuntimeError), asking(api, state) as caller:
        caller.chat(deployed, [{"role": "user", "content": CHECK_PROMPT}])
        assert arm.names() == ["alpha-ftctl-verify"]
        raise RuntimeError("the gate broke half way")
    assert arm.names() == []


def test_the_serving_version_is_asked_through_its_own_deployment(project: AzureProject,
                                                                 arm: Arm) -> None:
    project.model("alpha")
    code, out = project.run("apply", "--auto-approve")
    assert code == 0, out
    deployed = str(arm.model("alpha"))
    state, api = _state_and_api(project)
    with contextlib.closing(api), asking(api, state) as caller:
        caller.chat(deployed, [{"role": "user", "content": CHECK_PROMPT}])
        assert arm.names() == ["alpha"]  # no temporary deployment was needed
